// Golden test of the loadtest_* stages on the hand-made run of test/input/loadtest-run (its README
// gives the expected figures by eye), and the old summary printed from their rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { summaryText, type SummaryRow } from '../../collectors/loadtest/output.ts';
import { checkGolden, inputDir, roundFixed } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

const STAGES = ['loadtest_summary', 'loadtest_analysis', 'loadtest_details', 'loadtest_timeline', 'loadtest_contrast'];

describe('loadtest stages', () => {
  it('summary, analysis, details, timeline and contrast of the hand-made run', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lt-golden-'));
    await runStages({ runDir: inputDir('loadtest-run'), outDir: out, stages: STAGES, log: () => {} });
    const rows: Record<string, Record<string, unknown>[]> = {};
    for (const s of STAGES) {
      rows[s] = await readParquet(path.join(out, `${s}.parquet`));
      const g = checkGolden('loadtest-run', `${s}.json`, JSON.stringify(roundFixed(rows[s]), null, 1) + '\n');
      expect(g.ok, g.message).toBe(true);
    }
    // figures the README states
    const sum = (sc: string, ep: string) => rows.loadtest_summary!.find((r) => r.scenario === sc && r.endpoint === ep)!;
    expect(sum('solo', 'Thinker').ttft_p50_s).toBeCloseTo(0.15, 9);
    expect(sum('solo', 'Thinker').duration_s).toBeCloseTo(2, 9);
    expect(sum('solo', 'Thinker').tokens_per_s).toBeCloseTo(10, 9);
    expect(sum('mixed', '*')).toMatchObject({ total_requests: 5, successful: 3, failed: 2, cancelled: 1, contention_errors: 2 });
    expect(sum('mixed', '*').error_rate).toBeCloseTo(0.4, 9);
    expect(sum('mixed', '*').duration_s).toBeCloseTo(3.2, 9);
    const c = (ep: string) => rows.loadtest_contrast!.find((r) => r.endpoint === ep)!;
    expect(c('Thinker').ttft_ratio as number).toBeCloseTo(0.25 / 0.15, 9);
    expect(c('Flash').ttft_ratio as number).toBeCloseTo(2, 9);
    expect(rows.loadtest_details!.map((d) => d.request_id)).not.toContain('r32-000005');

    const mixed = rows.loadtest_summary!.filter((r) => r.scenario === 'mixed') as unknown as SummaryRow[];
    const lines = rows.loadtest_analysis!.filter((r) => r.scenario === 'mixed').map((r) => String(r.line));
    expect(lines).toEqual(['WARNING: Error rate is high (40.0%). Check server logs and capacity.', 'PASS: P90 Latency is acceptable (1.50s).', 'PASS: TTFT is excellent (0.20s).']);
    const g = checkGolden('loadtest-run', 'summary-mixed.txt', summaryText(mixed, lines, true));
    expect(g.ok, g.message).toBe(true);
  });
});
