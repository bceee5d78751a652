// Golden test of analysis/latency_summary.sql on hand-made records with small integer
// timestamps (test/input/latency_summary/), checked by eye in test/output/latency_summary/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { checkGolden, inputDir, roundFloats } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

describe('latency_summary stage', () => {
  it('matches the hand-checked snapshot', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-ls-'));
    const [result] = await runStages({ runDir: inputDir('latency_summary'), outDir: out, stages: ['latency_summary'], log: () => {} });
    const rows = await readParquet(result!.output);
    const text = JSON.stringify(roundFloats(rows), null, 2) + '\n';
    const golden = checkGolden('latency_summary', 'latency_summary.json', text);
    expect(golden.ok, golden.message).toBe(true);
    // A few values spelled out, so the snapshot cannot silently drift to nonsense.
    const a = rows.find((r) => r.endpoint === 'a' && r.phase === 'main')!;
    expect([a.requests, a.ok, a.failed, a.timeouts]).toEqual([5, 3, 2, 1]);
    expect([a.ttft_ms_mean, a.ttft_ms_p50, a.ttft_ms_p90]).toEqual([20, 20, 28]);
    expect(a.tpot_ms_mean).toBe(10); // a3 has one output token, so no TPOT
    expect([a.itl_n, a.itl_ms_mean, a.itl_ms_p90]).toEqual([5, 10, 13]); // timed-out a4's chunks do not count
    expect(a.ttft_ms_std).toBeCloseTo(Math.sqrt(200 / 3), 9); // population std
  });
});
