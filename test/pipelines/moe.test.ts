// End to end: `npx zx pipelines/moe.mjs --quick` on the simulated servers makes the datasets,
// benchmarks both backends with gate logs, and writes a report whose charts all draw in Chromium;
// then a resume skips what was measured and --from re-analyses the run with no server.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { chromiumAvailable, openInChromium } from '../helpers/browser.ts';
import { TEST_ROOT } from '../helpers/golden.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx');
const run = promisify(execFile);

async function pipeline(args: string[], data: string) {
  return run(ZX, [path.join(ROOT, 'pipelines', 'moe.mjs'), ...args], { cwd: ROOT, env: { ...process.env, SERVELAB_DATA: data }, timeout: 170_000, maxBuffer: 64 << 20 });
}

describe('pipelines/moe.mjs', () => {
  it('--quick produces a report whose charts draw; resume and --from work without re-measuring', { timeout: 300_000 }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-e2e-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    const first = await pipeline(['--quick', '--data', data], data);
    const report = /^report: (.+)$/m.exec(first.stdout)?.[1];
    expect(report, first.stdout + first.stderr).toBeTruthy();
    const runDir = path.dirname(report!);
    expect(fs.existsSync(report!)).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.counts.datasets_ok).toBe(8); // 4 datasets × 2 backends
    expect(fs.readdirSync(path.join(runDir, 'raw', 'gates')).sort()).toHaveLength(8);
    expect(fs.readdirSync(path.join(runDir, 'raw', 'gate_logs'))).toEqual(expect.arrayContaining(['baseline', 'all2all']));
    const html = fs.readFileSync(report!, 'utf8');
    expect(html).toContain('<title>MoE load imbalance: Baseline vs DefaultAll2All — simulated server</title>');
    for (const title of ['Serving metrics against imbalance', 'Does the predicted score foresee the real imbalance?', 'Per-step CV over time', 'Expert heat map (layer × expert)', 'Correlation and fitted trend']) {
      expect(html).toContain(title);
    }

    if (chromiumAvailable()) {
      const page = await openInChromium(report!, { timeoutMs: 60_000 });
      expect(page.consoleErrors).toEqual([]);
      expect(page.nonFileRequests).toEqual([]);
      expect(page.chartsFailed).toBe(0);
      expect(page.chartCount).toBeGreaterThanOrEqual(6);
      for (const n of page.markCounts) expect(n).toBeGreaterThan(0);
    }

    // An interrupted run resumes: everything measured is skipped.
    const again = await pipeline(['--quick', '--resume', runDir], data);
    expect(again.stdout.match(/already measured/g)).toHaveLength(8);
    // --from re-analyses the archive with no server.
    const from = await pipeline(['--from', runDir], data);
    expect(from.stdout).toContain(`report: ${report}`);
    expect(from.stdout).not.toContain('starting');
  });
});

describe('pipelines/moe.mjs flags', () => {
  it('rejects a gate-log mode that cannot work with the chosen server, before anything starts', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-flags-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    const fails = async (args: string[]) => {
      const err = (await pipeline(args, data).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      ))!;
      expect(err, args.join(' ')).not.toBeNull();
      expect(err.code).toBe(2);
      return err.stderr;
    };
    expect(await fails(['--gates', 'bogus'])).toContain("--gates: 'bogus' is not sim, dir, routed or none");
    expect(await fails(['--server', 'vllm', '--gates', 'sim'])).toContain('--gates sim needs the simulated server');
    expect(await fails(['--gates', 'dir', '--gate-dir', data])).toContain('--gates dir is for an instrumented vLLM');
    expect(await fails(['--server', 'vllm', '--gates', 'dir'])).toContain('--gates dir needs --gate-dir DIR');
    expect(fs.readdirSync(data)).toEqual([]); // no run was created
  });
});
