// Monotonic time for records: ns since a run's start from the high-resolution monotonic
// clock, never the wall clock. Passed in as an effect so tests and the simulator can supply their own.

export interface Clock {
  /** Monotonic ns since this clock's origin. */
  nowNs(): number;
  /** Wall clock in ms, only for aligning with other logs. */
  unixMs(): number;
}

export function monotonicClock(): Clock {
  // performance.now() reads the same monotonic source as process.hrtime (sub-µs resolution)
  // without allocating a BigInt per read, which matters on the load engine's hot path.
  const origin = performance.now();
  return {
    nowNs: () => Math.round((performance.now() - origin) * 1e6),
    unixMs: () => Date.now(),
  };
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
