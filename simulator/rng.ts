// Seeded random streams: xoshiro128** seeded through splitmix32 for the serving model, one
// independent stream per purpose (arrivals, lengths, routing…), and mulberry32 for the scheduling
// simulator's queueing traces; both give the same distributions, written once.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Exponential with mean 1. */
  exp(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Gamma(shape k, scale 1) (Marsaglia–Tsang). */
  gamma(k: number): number;
}

/** splitmix32 step: a well-mixed 32-bit value from a counter. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** 32-bit FNV-1a over a string's UTF-16 code units, from the offset basis xor `seed` (no process salt). */
export function fnv1a(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a, then mixed by splitmix32: a stable, well-spread 32-bit hash (stream names, routing). */
export function hashString(s: string, seed = 0): number {
  return splitmix32(fnv1a(s, seed));
}

/** A generator for `seed`, on the named stream (different names give independent streams). */
export function createRng(seed: number, stream = ''): Rng {
  if (!Number.isFinite(seed)) throw new Error(`seed: ${seed} is not a finite number`);
  const base = hashString(stream, Math.floor(seed) >>> 0) ^ splitmix32(Math.floor(seed / 4294967296) | 0);
  let s0 = splitmix32(base);
  let s1 = splitmix32(s0);
  let s2 = splitmix32(s1);
  let s3 = splitmix32(s2);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  // 53-bit uniform from two draws.
  const next = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
  return withDistributions(u32, next);
}

/**
 * mulberry32 (one 32-bit state, one draw per uniform): the scheduling simulator's generator,
 * which its queueing checks were validated on. `stream` > 0 gives independent streams from one
 * seed (arrivals, sizes…), so adding draws to one leaves the others unchanged.
 */
export function mulberry32(seed: number, stream = 0): Rng {
  let a = (stream === 0 ? seed : Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return withDistributions(u32, () => u32() / 4294967296);
}

/** The distributions of a generator, from its 32-bit draw and its uniform in [0, 1). */
function withDistributions(u32: () => number, next: () => number): Rng {
  const normal = (): number => {
    let u = 0;
    while (u === 0) u = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  const gamma = (k: number): number => {
    if (k < 1) return gamma(k + 1) * Math.pow(1 - next(), 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return {
    next,
    u32,
    int: (n) => Math.floor(next() * n),
    exp: () => -Math.log(1 - next()),
    normal,
    gamma,
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
