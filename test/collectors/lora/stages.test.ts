// Golden test of the rate-sweep and LoRA stages on a hand-made run (test/input/lora-status, values
// worked out in its README): the probe's statuses, the recommended rate, the sweep's TTFT by M,
// swaps, a failed value, and resident vs swapped TTFT.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../../analysis/stages.ts';
import { checkGolden, inputDir, roundFixed } from '../../helpers/golden.ts';
import { readParquet } from '../../helpers/parquet.ts';

describe('sweep and lora stages', () => {
  it('classify the probe, pick the rate, and split TTFT by M and residency as worked out by hand', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lora-stages-'));
    const results = await runStages({ runDir: inputDir('lora-status'), outDir: out, stages: ['lora_status', 'lora_rate', 'lora_ttft_by_m', 'lora_residency'], log: () => {} });
    const by = Object.fromEntries(await Promise.all(results.map(async (r) => [r.stage, roundFixed(await readParquet(r.output)) as Record<string, unknown>[]] as const)));
    const status = by.lora_status!;
    expect(status.map((r) => [r.rate, r.status, r.recommended])).toEqual([
      [1, 'OK', true],
      [2, 'TOO HIGH', false],
      [4, 'UNSTABLE', false],
      [8, 'SLOW', false],
    ]);
    expect([status[0]!.p50_ttft_ms, status[0]!.p99_ttft_ms, status[1]!.success_pct, status[2]!.p99_ttft_ms]).toEqual([20, 29.8, 75, 98.2]);
    expect(by.lora_rate!.map((r) => [r.prompt_regime, r.picked_rate, r.any_ok])).toEqual([['short', 1, true]]);
    const m = Object.fromEntries(by.lora_ttft_by_m!.map((r) => [r.gpu_loras, r]));
    expect([m[8]!.ttft_median_ms, m[8]!.swap_count, m[8]!.status]).toEqual([15, 0, 'ok']);
    expect([m[2]!.ttft_median_ms, m[2]!.swap_count, m[2]!.swap_calls, m[2]!.num_requests]).toEqual([40, 2, 1, 3]);
    expect(m[2]!.ttft_p50_change_pct).toBeCloseTo(166.666666667, 6);
    expect([m[4]!.status, m[4]!.num_requests, m[4]!.error]).toEqual(['failed', 0, 'server lora-m4: exited with code 1']);
    const res = by.lora_residency!.filter((r) => r.gpu_loras === 2).map((r) => [r.residency, r.n, r.ttft_p50_ms]);
    expect(res).toEqual([
      ['resident', 1, 10],
      ['swapped in', 2, 45],
    ]);
    for (const [name, data] of Object.entries(by)) {
      const g = checkGolden('lora-status', `${name}.json`, JSON.stringify(data, null, 2) + '\n');
      expect(g.ok, g.message).toBe(true);
    }
  });
});
