// Seeded random streams for the serving model: xoshiro128** seeded through splitmix32, one
// independent stream per purpose (arrivals, lengths, routing…) so a run replays exactly for a seed.

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

/** FNV-1a over a string's UTF-16 code units, then mixed: a stable 32-bit hash (no process salt). */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return splitmix32(h);
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
