// High-resolution waiting for the open-loop dispatcher: a coarse timer until ~1 ms before
// the target, then setImmediate turns (which still let I/O run) until the target passes.
// Timers alone quantize to ~1 ms and under-deliver at high rates (see peers.md §5).
import type { Clock } from '../core/clock.ts';

export interface PacerOptions {
  /** How long before the target the timer hands over to setImmediate turns (ns). */
  spinNs?: number;
}

export function makePacer(clock: Clock, opts: PacerOptions = {}) {
  const spinNs = opts.spinNs ?? 1_000_000;
  const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
  const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return {
    /** Resolves at or just after `targetNs` on `clock`; returns the lateness in ns. */
    async until(targetNs: number, signal?: AbortSignal): Promise<number> {
      for (;;) {
        if (signal?.aborted) return clock.nowNs() - targetNs;
        const left = targetNs - clock.nowNs();
        if (left <= 0) return -left;
        if (left > spinNs + 1_000_000) await timer(Math.min(100, Math.floor((left - spinNs) / 1e6)));
        else await immediate();
      }
    },
  };
}
