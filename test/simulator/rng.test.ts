// Tests of the seeded streams (simulator/rng.ts): replay per seed, independent streams, uniform
// and exponential means, stable string hashes.
import { describe, expect, it } from 'vitest';
import { createRng, fnv1a, hashString, mulberry32, splitmix32 } from '../../simulator/rng.ts';

describe('seeded streams', () => {
  it('replays a seed and separates streams', () => {
    const a = createRng(42, 'arrivals');
    const b = createRng(42, 'arrivals');
    const c = createRng(42, 'lengths');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(createRng(43, 'arrivals').next()).not.toBe(xs[0]);
  });

  it('draws uniform values in [0, 1) with the right mean, and exponentials with mean 1', () => {
    const r = createRng(1);
    let s = 0;
    let e = 0;
    let lo = 1;
    let hi = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      s += u;
      e += r.exp();
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(s / n).toBeCloseTo(0.5, 1);
    expect(e / n).toBeCloseTo(1, 1);
  });

  it('hashes strings stably', () => {
    expect(hashString('hello')).toBe(hashString('hello'));
    expect(hashString('hello')).not.toBe(hashString('hellp'));
    // The published 32-bit FNV-1a of "hello"; hashString is it mixed, the server's text seed is it plain.
    expect(fnv1a('hello')).toBe(0x4f9f2cab);
    expect(hashString('hello', 7)).toBe(splitmix32(fnv1a('hello', 7)));
    expect(() => createRng(NaN)).toThrow(/seed/);
  });

  it('mulberry32 replays a seed, its streams differ, and its draws share the distributions (uniform and exponential means)', () => {
    const xs = Array.from({ length: 5 }, mulberry32(9).next);
    expect(Array.from({ length: 5 }, mulberry32(9).next)).toEqual(xs);
    expect(Array.from({ length: 5 }, mulberry32(9, 1).next)).not.toEqual(xs);
    expect(mulberry32(1).next()).toBe(0.6270739405881613); // the reference mulberry32's first output for seed 1
    const r = mulberry32(3, 2);
    let s = 0;
    let e = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      s += r.next();
      e += r.exp();
    }
    expect(s / n).toBeCloseTo(0.5, 1);
    expect(e / n).toBeCloseTo(1, 1);
  });
});
