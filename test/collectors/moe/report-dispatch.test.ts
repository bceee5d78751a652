// `servelab report RUN` on an MoE experiment run renders the MoE report (the moe_* stages), not
// the latency report: the hand-made run of test/input/moe-bench-run, into a temp folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../reports/cmd-report.ts';
import { inputDir } from '../../helpers/golden.ts';

const tmp: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of tmp.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('servelab report on an MoE run', () => {
  it('dispatches to the MoE report builder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-report-'));
    tmp.push(dir);
    const out = path.join(dir, 'report.html');
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (written.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await run([inputDir('moe-bench-run'), '--out', out, '--derived', path.join(dir, 'derived')]);
    expect(code).toBe(0);
    expect(written.join('')).toContain(out);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('MoE load imbalance: Baseline vs DefaultAll2All');
    expect(html).toContain('Correlation and fitted trend');
    expect(html).not.toContain('latency_quantiles');
    expect(fs.existsSync(path.join(dir, 'derived', 'moe_correlation.parquet'))).toBe(true);
  });
});
