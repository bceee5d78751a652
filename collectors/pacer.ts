// High-resolution waiting for the open-loop dispatcher: a worker-thread wake-up (waker.ts) to
// ~0.25 ms before the target, then setImmediate turns (which still let I/O run) until it passes.
// libuv timers alone fire 0–2 ms late and a long spin burns the CPU that responses need, so the
// timer path (no worker, or a second concurrent waiter) hands over to turns ~1.2 ms early.
import type { Clock } from '../core/clock.ts';
import { processWaker, type Waker } from './waker.ts';

export interface PacerOptions {
  /** How long before the target the wake-up hands over to setImmediate turns (ns). */
  spinNs?: number;
  /** Timer path only: how early a 1 ms-resolution timer aims, covering its overshoot (ns). */
  timerEarlyNs?: number;
  /** When behind schedule, the longest stretch of back-to-back sends before I/O gets a turn (ns). */
  maxBusyNs?: number;
  /** The precise wake-up; null for timers only (default: the process's worker waker). */
  waker?: Waker | null;
}

/** Host monotonic ns (the waker's clock). */
const hrNow = () => Number(process.hrtime.bigint());

export function makePacer(clock: Clock, opts: PacerOptions = {}) {
  const spinNs = opts.spinNs ?? 250_000;
  const timerEarlyNs = opts.timerEarlyNs ?? 1_200_000;
  const maxBusyNs = opts.maxBusyNs ?? 1_000_000;
  const waker = opts.waker === undefined ? processWaker() : opts.waker;
  const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
  const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  let lastYieldNs = clock.nowNs();
  return {
    /** Resolves at or just after `targetNs` on `clock`; returns the lateness in ns. */
    async until(targetNs: number, signal?: AbortSignal): Promise<number> {
      for (;;) {
        if (signal?.aborted) return clock.nowNs() - targetNs;
        const now = clock.nowNs();
        const left = targetNs - now;
        if (left <= 0) {
          // behind schedule: still let I/O run now and then, or responses pile up unread
          if (now - lastYieldNs < maxBusyNs) return -left;
          await immediate();
          lastYieldNs = clock.nowNs();
          return lastYieldNs - targetNs;
        }
        if (left > 100_000_000) await timer(Math.floor((left - timerEarlyNs) / 1e6)); // long waits: timers are exact enough
        else if (left > spinNs && waker && !waker.busy) await waker.at(hrNow() + left - spinNs);
        else if (left > timerEarlyNs + 1e6) await timer(Math.floor((left - timerEarlyNs) / 1e6));
        else await immediate();
        lastYieldNs = clock.nowNs();
      }
    },
  };
}
