// `servelab report`: builds the latency stages of the sample run into a given folder, writes one
// HTML file, and finds runs by id in an archive with did-you-mean on a typo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { resolveRun } from '../../analysis/runstore.ts';
import { run } from '../../reports/cmd-report.ts';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/samples');
const SAMPLE = path.join(DATA, 'runs/latency/sample-001');

describe('servelab report', () => {
  it('renders the sample run without writing into it when --derived and --out point elsewhere', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-report-'));
    const out = path.join(tmp, 'r.html');
    const before = fs.readdirSync(SAMPLE).sort();
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run([SAMPLE, '--out', out, '--derived', path.join(tmp, 'derived')])).toBe(0);
      expect(stdout.mock.calls.map((c) => String(c[0]))).toEqual([`${out}\n`]);
      expect(stderr.mock.calls.map((c) => String(c[0]).split(' ')[0])).toEqual(['[built]', '[built]', '[built]']);
      stderr.mockClear();
      expect(await run([SAMPLE, '--out', out, '--derived', path.join(tmp, 'derived')])).toBe(0);
      expect(stderr.mock.calls.map((c) => String(c[0]).split(' ')[0])).toEqual(['[fresh]', '[fresh]', '[fresh]']);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('<title>Latency report</title>');
    expect(html).toContain('<dd>sample-001</dd>');
    expect(html).toContain('Summary per endpoint and phase');
    expect(fs.readdirSync(path.join(tmp, 'derived')).sort()).toEqual(['latency_quantiles.parquet', 'latency_summary.parquet', 'latency_timeline.parquet']);
    expect(fs.readdirSync(SAMPLE).sort()).toEqual(before);
  });

  it('finds a run by id in an archive, and suggests the close one on a typo', () => {
    expect(resolveRun('sample-001', DATA)).toBe(SAMPLE);
    expect(resolveRun('latency/sample-001', DATA)).toBe(SAMPLE);
    expect(() => resolveRun('sample-01', DATA)).toThrow(expect.objectContaining({
      message: `run 'sample-01' not found under ${DATA}`,
      details: ['close matches: latency/sample-001', expect.stringContaining('give a run folder, a run id or experiment/run-id')],
    }));
    expect(() => resolveRun(DATA, DATA)).toThrow(`${DATA}: not a run folder (no manifest.json)`);
  });
});
