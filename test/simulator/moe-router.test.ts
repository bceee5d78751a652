import { describe, expect, it } from 'vitest';
import { createEngine, createMoeRouter } from '../../simulator/engine/index.ts';
import { recorder, simpleCost } from './engine-helpers.ts';

const code = ['write a python function to sort an array', 'debug this javascript loop error', 'sql query to join two database tables', 'compile the rust code and fix the bug', 'typescript class with a variable and return type'];
const mixed = [
  'write a python function to sort an array',
  'solve the integral of x squared and prove the theorem',
  'what are the symptoms of this disease and its treatment',
  'draft a contract clause on tenant liability',
  'write a poem about a dragon and a hero',
];

/** Population CV of the aggregated per-expert load over layers, averaged. */
function aggregatedCv(prompts: string[], reps = 8): number {
  const router = createMoeRouter({ layers: 4, experts: 32, topK: 4, seed: 3 });
  const totals = Array.from({ length: 4 }, () => new Array<number>(32).fill(0));
  for (let r = 0; r < reps; r++) {
    for (const p of prompts) {
      router.beginStep();
      router.route(router.profile(p), 50);
      const { counts } = router.endStep();
      counts.forEach((row, l) => row.forEach((n, e) => (totals[l]![e]! += n)));
    }
  }
  let cv = 0;
  for (const row of totals) {
    const mean = row.reduce((a, b) => a + b, 0) / row.length;
    const sd = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length);
    cv += sd / mean;
  }
  return cv / totals.length;
}

describe('content-dependent MoE router', () => {
  it('routes one-domain prompts more unevenly than a mixed set', () => {
    const one = aggregatedCv(code);
    const mix = aggregatedCv(mixed);
    expect(one).toBeGreaterThan(mix * 1.3);
  });

  it('gives top_k distinct experts per token and layer; skew 0 is near uniform', () => {
    const router = createMoeRouter({ layers: 3, experts: 8, topK: 2, seed: 1, skew: 0 });
    router.beginStep();
    router.route(router.profile('hello'), 1);
    const one = router.endStep();
    for (const row of one.counts) {
      expect(row.reduce((a, b) => a + b, 0)).toBe(2);
      expect(Math.max(...row)).toBe(1);
    }
    router.beginStep();
    router.route(router.profile('hello'), 4000);
    const many = router.endStep();
    for (const row of many.counts) for (const n of row) expect(n / 8000).toBeCloseTo(1 / 8, 1);
    expect(many.distinctExperts).toBe(8);
    expect(() => createMoeRouter({ layers: 1, experts: 8, topK: 9, seed: 0 })).toThrow(/topK: 9/);
  });

  it('the engine emits gate counts per step: tokens·top_k per layer, and passes the MoE shape to the cost model', () => {
    const { listener } = recorder();
    const gates: { stepTokens: number; sums: number[] }[] = [];
    let sawMoe = 0;
    const cost = simpleCost();
    const e = createEngine(
      {
        cost: { stepTime: (s) => ((sawMoe += s.moe ? 1 : 0), cost.stepTime(s)) },
        kvBlocks: 100,
        moe: { layers: 2, experts: 8, topK: 2, epRanks: 2, seed: 5 },
      },
      { ...listener, onGates: (_step, _t, counts, stepTokens) => void gates.push({ stepTokens, sums: counts.map((r) => r.reduce((a, b) => a + b, 0)) }) },
    );
    e.add({ id: 'a', arrival: 0, promptTokens: 30, maxTokens: 5, content: code[0] });
    e.add({ id: 'b', arrival: 0, promptTokens: 20, maxTokens: 5, content: mixed[1] });
    e.advanceTo(Infinity);
    expect(gates[0]!.stepTokens).toBe(50);
    expect(gates[0]!.sums).toEqual([100, 100]);
    expect(gates[1]!.stepTokens).toBe(2);
    expect(gates).toHaveLength(5);
    expect(sawMoe).toBe(5);
  });
});
