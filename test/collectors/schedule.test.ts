import { describe, expect, it } from 'vitest';
import { seededRng } from '../../collectors/rng.ts';
import { buildSchedule, parseStages } from '../../collectors/schedule.ts';

function gaps(s: Float64Array): number[] {
  const g: number[] = [];
  for (let i = 1; i < s.length; i++) g.push((s[i]! - s[i - 1]!) / 1e9);
  return g;
}
const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const cv2 = (x: number[]) => {
  const m = mean(x);
  return mean(x.map((v) => (v - m) ** 2)) / (m * m);
};

describe('arrival schedules', () => {
  const n = 20_000;
  it('Poisson: mean gap 1/rate, squared CV 1; same seed same schedule', () => {
    const s = buildSchedule({ rate: 50, count: n }, seededRng(7));
    const g = gaps(s);
    expect(s[0]).toBe(0);
    expect(mean(g)).toBeGreaterThan(0.02 * 0.97);
    expect(mean(g)).toBeLessThan(0.02 * 1.03);
    expect(cv2(g)).toBeGreaterThan(0.93);
    expect(cv2(g)).toBeLessThan(1.07);
    expect(buildSchedule({ rate: 50, count: n }, seededRng(7))).toEqual(s);
    expect(buildSchedule({ rate: 50, count: n }, seededRng(8))).not.toEqual(s);
  });
  it('Gamma with burstiness b: mean gap 1/rate, squared CV 1/b', () => {
    for (const b of [0.25, 4]) {
      const g = gaps(buildSchedule({ rate: 10, burstiness: b, count: n }, seededRng(3)));
      expect(mean(g)).toBeGreaterThan(0.1 * 0.95);
      expect(mean(g)).toBeLessThan(0.1 * 1.05);
      expect(cv2(g)).toBeGreaterThan((1 / b) * 0.9);
      expect(cv2(g)).toBeLessThan((1 / b) * 1.1);
    }
  });
  it('constant: exact gaps; a duration bounds the count', () => {
    const s = buildSchedule({ rate: 4, burstiness: Infinity, durationS: 10 }, seededRng(1));
    expect(s.length).toBe(40);
    expect(new Set(gaps(s).map((x) => x.toFixed(9)))).toEqual(new Set(['0.250000000']));
  });
  it('a linear ramp 0→20 over 10 s then 20/s: expected arrivals follow the area under the rate', () => {
    const s = buildSchedule({ rate: 20, arrival: 'constant', stages: parseStages('10:0-20'), durationS: 20 }, seededRng(1));
    // area: 0.5·10·20 = 100 in the ramp, 200 after
    expect(s.length).toBe(300);
    const inRamp = [...s].filter((t) => t < 10e9).length;
    expect(inRamp).toBe(100);
    // the ramp's first half (rate ≤ 10) holds a quarter of its arrivals
    expect([...s].filter((t) => t < 5e9).length).toBe(25);
  });
  it('an infinite rate sends everything at t=0', () => {
    expect([...buildSchedule({ rate: Infinity, count: 5 }, seededRng(1))]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('exact-rate schedules', () => {
  it('a count-bound Poisson schedule spans exactly (n−1)/rate; a duration-bound one holds rate·duration arrivals inside it', () => {
    const s = buildSchedule({ rate: 1000, count: 5000 }, seededRng(11));
    expect(s.length).toBe(5000);
    expect(s[s.length - 1]! / 1e9).toBeCloseTo(4.999, 6);
    const d = buildSchedule({ rate: 1000, durationS: 5 }, seededRng(11));
    expect(d.length).toBe(5000);
    expect(d[d.length - 1]! / 1e9).toBeLessThan(5);
    for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]!);
  });
  it('exactRate: false keeps the raw draw, whose span misses the target by the draw noise', () => {
    const raw = buildSchedule({ rate: 1000, count: 5000, exactRate: false }, seededRng(11));
    expect(raw[raw.length - 1]! / 1e9).not.toBeCloseTo(4.999, 3);
  });
});
