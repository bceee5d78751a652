// Golden test of the MoE analysis stages on a hand-made run (test/input/moe-bench-run, values
// worked out in its README): benchmark figures, IQR outliers, Pearson/Spearman and the fit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../../analysis/stages.ts';
import { checkGolden, inputDir, roundFixed } from '../../helpers/golden.ts';
import { readParquet } from '../../helpers/parquet.ts';

describe('moe analysis stages', () => {
  it('bench figures, outliers, correlations and the fit match the hand-made run', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-stages-'));
    const results = await runStages({ runDir: inputDir('moe-bench-run'), outDir: out, stages: ['moe_correlation'], log: () => {} });
    const by = Object.fromEntries(await Promise.all(results.map(async (r) => [r.stage, roundFixed(await readParquet(r.output)) as Record<string, unknown>[]] as const)));
    const bench = by.moe_bench!;
    const b1 = bench.find((r) => r.backend === 'baseline' && r.dataset === '001_0.1000')!;
    expect([b1.predicted_score, b1.completed, b1.mean_ttft_ms, b1.mean_tpot_ms, b1.mean_itl_ms]).toEqual([0.1, 2, 10, 10, 10]);
    expect(b1.request_throughput).toBeCloseTo(2 / 0.031, 6);
    const pts = by.moe_imbalance_points!.filter((r) => r.metric === 'ttft' && r.backend === 'baseline');
    expect(pts.map((r) => [r.value, r.outlier, r.real_cv])).toEqual([
      [10, false, 0.8],
      [20, false, 0.6],
      [30, false, 0.4],
      [40, false, 0.2],
      [1000, true, 0],
    ]);
    const corr = (x: string) => by.moe_correlation!.find((r) => r.backend === 'baseline' && r.metric === 'ttft' && r.x === x)!;
    expect([corr('predicted_score').n, corr('predicted_score').pearson, corr('predicted_score').spearman]).toEqual([4, 1, 1]);
    expect(corr('predicted_score').slope).toBeCloseTo(100, 9);
    expect(corr('predicted_score').intercept).toBeCloseTo(0, 9);
    expect([corr('real_cv').pearson, corr('real_cv').spearman]).toEqual([-1, -1]);
    expect(corr('real_cv').slope).toBeCloseTo(-50, 9);
    // The interval is Fisher's z around r (n ≥ 4), and the points the IQR filter dropped are counted.
    for (const r of by.moe_correlation!) {
      const n = Number(r.n);
      const p = Number(r.pearson);
      if (n >= 4 && Math.abs(p) < 1 - 1e-9) {
        expect(r.pearson_lo).toBeCloseTo(Math.tanh(Math.atanh(p) - 1.959964 / Math.sqrt(n - 3)), 6);
        expect(r.pearson_hi).toBeCloseTo(Math.tanh(Math.atanh(p) + 1.959964 / Math.sqrt(n - 3)), 6);
      } else if (n < 4) expect(r.pearson_lo).toBeNull();
    }
    expect(corr('real_cv').n_left_out).toBe(1);
    expect(by.moe_correlation!.some((r) => r.metric === 'itl')).toBe(false);
    for (const [name, data] of Object.entries(by)) {
      const g = checkGolden('moe-bench-run', `${name}.json`, JSON.stringify(data, null, 2) + '\n');
      expect(g.ok, g.message).toBe(true);
    }
  });
});
