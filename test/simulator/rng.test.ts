// Tests of the seeded streams (simulator/rng.ts): replay per seed, independent streams, uniform
// and exponential means, stable string hashes.
import { describe, expect, it } from 'vitest';
import { createRng, hashString } from '../../simulator/rng.ts';

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
    expect(() => createRng(NaN)).toThrow(/seed/);
  });
});
