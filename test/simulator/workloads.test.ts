// Tests of the simulator's workloads (simulator/workloads/): arrival rates and burstiness, length
// distributions, the flag forms, ShareGPT reading, and the seeded multi-model stream.
import { describe, expect, it } from 'vitest';
import { createRng } from '../../simulator/rng.ts';
import { arrivalTimes, generateWorkload, lengthSampler, meanRate, mmppAround, parseLengthSpec, parseShareGpt, type ArrivalSpec } from '../../simulator/workloads/index.ts';

function gaps(spec: ArrivalSpec, n = 20000): { mean: number; cv2: number } {
  const next = arrivalTimes(spec, createRng(1, 'a'));
  let prev = 0;
  const g: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = next();
    g.push(t - prev);
    prev = t;
  }
  const mean = g.reduce((a, b) => a + b, 0) / n;
  const v = g.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return { mean, cv2: v / mean ** 2 };
}

const mean = (f: () => number, n = 20000) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += f();
  return s / n;
};

describe('workloads', () => {
  it('arrival processes have their rate and burstiness', () => {
    const p = gaps({ kind: 'poisson', rate: 4 });
    expect(p.mean).toBeCloseTo(0.25, 2);
    expect(p.cv2).toBeCloseTo(1, 1);
    const g = gaps({ kind: 'gamma', rate: 4, burstiness: 0.25 });
    expect(g.mean).toBeCloseTo(0.25, 1);
    expect(g.cv2).toBeGreaterThan(3.5); // Gamma shape b: CV² = 1/b = 4
    expect(g.cv2).toBeLessThan(4.5);
    const c = gaps({ kind: 'constant', rate: 4 }, 10);
    expect(c.mean).toBeCloseTo(0.25, 12);
    expect(c.cv2).toBeLessThan(1e-20);
    const spec = mmppAround(4);
    expect(meanRate(spec)).toBeCloseTo(4, 12);
    const m = gaps(spec, 40000);
    expect(1 / m.mean).toBeGreaterThan(3.4);
    expect(1 / m.mean).toBeLessThan(4.6);
    expect(m.cv2).toBeGreaterThan(1.2); // burstier than Poisson
  });

  it('length distributions have their means and bounds', () => {
    const rng = createRng(2);
    expect(mean(lengthSampler({ kind: 'lognormal', mean: 250, sigma: 0.8 }, rng))).toBeGreaterThan(240);
    expect(mean(lengthSampler({ kind: 'lognormal', mean: 250, sigma: 0.8 }, rng))).toBeLessThan(260);
    const par = lengthSampler({ kind: 'pareto', scale: 100, shape: 3 }, rng);
    const xs = Array.from({ length: 5000 }, par);
    expect(Math.min(...xs)).toBe(100);
    expect(mean(par)).toBeCloseTo(150, -1); // scale·shape/(shape−1)
    const uni = Array.from({ length: 2000 }, lengthSampler({ kind: 'uniform', min: 3, max: 5 }, rng));
    expect(new Set(uni)).toEqual(new Set([3, 4, 5]));
    const emp = Array.from({ length: 4000 }, lengthSampler({ kind: 'empirical', values: [10, 20], weights: [3, 1] }, rng));
    expect(emp.filter((x) => x === 10).length / 4000).toBeCloseTo(0.75, 1);
  });

  it('parses the flag form and names bad values', () => {
    expect(parseLengthSpec('250')).toEqual({ kind: 'fixed', value: 250 });
    expect(parseLengthSpec('lognormal:250:0.8:4096')).toEqual({ kind: 'lognormal', mean: 250, sigma: 0.8, max: 4096 });
    expect(parseLengthSpec('empirical:1,2,3')).toEqual({ kind: 'empirical', values: [1, 2, 3] });
    expect(parseLengthSpec('empirical:h.json', '--x', () => '{"values":[5,6],"weights":[1,2]}')).toEqual({ kind: 'empirical', values: [5, 6], weights: [1, 2] });
    expect(() => parseLengthSpec('lognormol:1:2', '--input-len')).toThrow(/--input-len: 'lognormol' is not one of .*did you mean 'lognormal'/);
    expect(() => parseLengthSpec('uniform:9:3', '--input-len')).toThrow(/--input-len\.max: 3 must be ≥ min \(9\)/);
    expect(() => arrivalTimes({ kind: 'poisson', rate: -2 }, createRng(0))).toThrow(/rate: -2 must be a positive number/);
    expect(() => arrivalTimes({ kind: 'gamma', rate: 1, burstiness: 0 }, createRng(0))).toThrow(/burstiness: 0/);
  });

  it('reads ShareGPT conversations (word counts) with vLLM\'s filter', () => {
    const text = JSON.stringify([
      { conversations: [{ from: 'human', value: 'one two three four five' }, { from: 'gpt', value: 'a b c d e f' }] },
      { conversations: [{ from: 'human', value: 'too short' }, { from: 'gpt', value: 'a b c d' }] },
      { conversations: [{ from: 'human', value: 'only one turn here' }] },
    ]);
    expect(parseShareGpt(text, 'd.json')).toEqual([{ prompt: 'one two three four five', promptTokens: 5, outputTokens: 6 }]);
    expect(parseShareGpt(text, 'd.json', { counter: 'llama' })[0]!.promptTokens).toBeGreaterThanOrEqual(5);
    expect(() => parseShareGpt('{"a":1}', 'd.json')).toThrow(/d\.json: expected a JSON list/);
    expect(() => parseShareGpt('[{"x":1}]', 'd.json')).toThrow(/d\.json\[0\]: conversations: missing/);
  });

  it('generates a seeded, ordered stream with a weighted multi-model mix', () => {
    const spec = {
      arrival: { kind: 'poisson', rate: 50 } as const,
      count: 3000,
      input: { kind: 'fixed', value: 100 } as const,
      output: { kind: 'fixed', value: 10 } as const,
      mix: [
        { name: 'small', weight: 3, model: 'Llama-3-8B' },
        { name: 'big', weight: 1, model: 'Llama-3-70B', input: { kind: 'fixed', value: 900 } as const },
      ],
      seed: 9,
    };
    const a = [...generateWorkload(spec)];
    expect([...generateWorkload(spec)]).toEqual(a);
    expect(a).toHaveLength(3000);
    for (let i = 1; i < a.length; i++) expect(a[i]!.arrival).toBeGreaterThan(a[i - 1]!.arrival);
    const big = a.filter((r) => r.model === 'Llama-3-70B');
    expect(big.length / a.length).toBeCloseTo(0.25, 1);
    expect(big.every((r) => r.promptTokens === 900 && r.endpoint === 'big')).toBe(true);
    expect([...generateWorkload({ ...spec, count: undefined, duration: 2 })].every((r) => r.arrival <= 2)).toBe(true);
    expect(() => [...generateWorkload({ ...spec, mix: [{ name: 'x', weight: -1 }] })]).toThrow(/mix\[0\] \(x\)\.weight: -1/);
  });
});
