// Monotonic time for records: ns since a run's start from the high-resolution monotonic
// clock, never the wall clock. Passed in as an effect so tests and the simulator can supply their own.

export interface Clock {
  /** Monotonic ns since this clock's origin. */
  nowNs(): number;
  /** Wall clock in ms, only for aligning with other logs. */
  unixMs(): number;
}

/** `startNs`: where this clock starts (e.g. how long the run has been going when this process joins it). */
export function monotonicClock(startNs = 0): Clock {
  // performance.now() reads the same monotonic source as process.hrtime (sub-µs resolution)
  // without allocating a BigInt per read, which matters on the load engine's hot path.
  const origin = performance.now() - startNs / 1e6;
  return {
    nowNs: () => Math.round((performance.now() - origin) * 1e6),
    unixMs: () => Date.now(),
  };
}

/**
 * The clock of a run that may have started in another process (a MoE run's per-dataset
 * benchmarks, a shard, a resume): monotonic from here on, starting at the run's age by the wall
 * clock, so every process of one run writes *_ns on one time line since the run started.
 */
export function runClock(startedUnixMs: number | null | undefined, now = Date.now()): Clock {
  return monotonicClock(typeof startedUnixMs === 'number' && startedUnixMs <= now ? (now - startedUnixMs) * 1e6 : 0);
}

/** A clock the caller moves by hand (tests, virtual time). */
export function manualClock(startNs = 0): Clock & { set(ns: number): void; advance(ns: number): void } {
  let t = startNs;
  return {
    nowNs: () => t,
    unixMs: () => 1_700_000_000_000 + t / 1e6,
    set: (ns) => {
      t = ns;
    },
    advance: (ns) => {
      t += ns;
    },
  };
}
