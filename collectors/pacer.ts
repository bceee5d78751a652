// High-resolution waiting for the open-loop dispatcher: a coarse timer until ~0.2 ms before
// the target, then setImmediate turns (which still let I/O run) until the target passes.
// Timers alone quantize to ~1 ms; a long spin burns the CPU that responses need (a 1 ms spin
// window at 1,000 req/s spun most of the time), so the spin window is kept short. Measured and
// dropped: a worker-thread wake-up (Atomics.wait + message; p50 0.03 ms but p99 2-3× worse, as a
// woken thread waits for a core on a busy host) and floor()ed timers (more spinning, more GC;
// re-measured with the allocation-free turns: p50 0.03 ms, p99 no better, client CPU +25%), and
// 50-100 µs Atomics.wait naps on the main thread in the spin window (less CPU, but I/O waits out
// each nap, p50 up to ~0.15 ms, p99 no better).
import type { Clock } from '../core/clock.ts';

export interface PacerOptions {
  /** How long before the target the timer hands over to setImmediate turns (ns). */
  spinNs?: number;
  /** A wait shorter than spinNs + slackNs is spun out rather than risk a timer's ~1 ms overshoot (ns). */
  slackNs?: number;
  /** When behind schedule, the longest stretch of back-to-back sends before I/O gets a turn (ns). */
  maxBusyNs?: number;
}

export function makePacer(clock: Clock, opts: PacerOptions = {}) {
  const spinNs = opts.spinNs ?? 200_000;
  const slackNs = opts.slackNs ?? 500_000;
  const maxBusyNs = opts.maxBusyNs ?? 1_000_000;
  let lastYieldNs = clock.nowNs();
  return {
    /** Resolves at or just after `targetNs` on `clock`; returns the lateness in ns. */
    until(targetNs: number, signal?: AbortSignal): Promise<number> {
      const now = clock.nowNs();
      if (signal?.aborted) return Promise.resolve(now - targetNs);
      // behind schedule with I/O served recently: send now, no macrotask turn
      if (now >= targetNs && now - lastYieldNs < maxBusyNs) return Promise.resolve(now - targetNs);
      // One promise per wait, re-armed by plain callbacks: a promise and an async frame per
      // setImmediate turn were a quarter of the engine's allocation at 1,000 req/s (GC pauses).
      return new Promise<number>((resolve) => {
        let overdue = false;
        const wake = (): void => {
          lastYieldNs = clock.nowNs();
          if (overdue) resolve(lastYieldNs - targetNs);
          else step();
        };
        const step = (): void => {
          const t = clock.nowNs();
          if (signal?.aborted) return resolve(t - targetNs);
          const left = targetNs - t;
          if (left <= 0) {
            if (t - lastYieldNs < maxBusyNs) return resolve(-left);
            // behind schedule: still let I/O run now and then, or responses pile up unread
            overdue = true;
            setImmediate(wake);
          } else if (left > spinNs + slackNs) setTimeout(wake, Math.min(100, Math.max(1, Math.round((left - spinNs) / 1e6))));
          else setImmediate(wake);
        };
        step();
      });
    },
  };
}
