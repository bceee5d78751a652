// End to end: `npx zx pipelines/loadtest.mjs --quick` runs each model alone, then mixed, on the
// simulated server: with Flash on Thinker's GPU (the default) mixed TTFT exceeds solo TTFT for
// both models; on GPUs of their own (--separate) it does not. The report draws in Chromium.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { chromiumAvailable, openInChromium } from '../helpers/browser.ts';
import { TEST_ROOT } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx');
const run = promisify(execFile);

async function pipeline(args: string[], data: string) {
  const t0 = performance.now();
  const r = await run(ZX, [path.join(ROOT, 'pipelines', 'loadtest.mjs'), ...args, '--data', data], { cwd: ROOT, timeout: 170_000, maxBuffer: 64 << 20 });
  const report = /^report: (.+)$/m.exec(r.stdout)?.[1];
  expect(report, r.stdout + r.stderr).toBeTruthy();
  const contrast = await readParquet(path.join(path.dirname(report!), 'derived', 'loadtest_contrast.parquet'));
  return { ...r, report: report!, wallS: (performance.now() - t0) / 1000, ratio: (ep: string) => contrast.find((c) => c.endpoint === ep) as Record<string, number> };
}

describe('pipelines/loadtest.mjs --quick', () => {
  it('shared GPUs: mixed TTFT exceeds solo TTFT; separate GPUs: it does not', { timeout: 300_000 }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lt-e2e-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));

    const shared = await pipeline(['--quick'], data);
    expect(shared.wallS).toBeLessThan(90);
    // time slicing doubles a step while the other model is busy: TPOT and TTFT about 2× (quick: long prompts)
    for (const ep of ['Thinker', 'Flash']) {
      const c = shared.ratio(ep);
      expect(c.mixed_ttft_p50_s, ep).toBeGreaterThan(1.6 * c.solo_ttft_p50_s);
      expect(c.mixed_tpot_p50_ms, ep).toBeGreaterThan(1.5 * c.solo_tpot_p50_ms);
    }
    expect(shared.ratio('*').mixed_tokens_per_s).toBeLessThan(shared.ratio('*').solo_tokens_per_s);
    const html = fs.readFileSync(shared.report, 'utf8');
    expect(html).toMatch(/TTFT p50 rises [\d.]+× when (Thinker|Flash) shares its GPUs/);
    expect(html).toContain('— simulated server');

    const separate = await pipeline(['--quick', '--separate'], data);
    // about 1× on GPUs of their own; the margin is for this host's own scheduling delays, which a
    // busier process (the mixed load) suffers more (2 shared cores, server and client on one host)
    for (const ep of ['Thinker', 'Flash']) {
      const c = separate.ratio(ep);
      expect(c.mixed_ttft_p50_s, ep).toBeLessThan(1.5 * c.solo_ttft_p50_s);
      expect(c.mixed_tpot_p50_ms, ep).toBeLessThan(1.2 * c.solo_tpot_p50_ms);
      expect(c.ttft_ratio, ep).toBeLessThan(shared.ratio(ep).ttft_ratio);
    }

    if (chromiumAvailable()) {
      const page = await openInChromium(shared.report, { timeoutMs: 60_000 });
      expect(page.consoleErrors).toEqual([]);
      expect(page.nonFileRequests).toEqual([]);
      expect(page.chartsFailed).toBe(0);
      expect(page.chartCount).toBe(3);
      for (const n of page.markCounts) expect(n).toBeGreaterThan(0);
    }
  });

  it('a bad config fails before anything runs, with FILE:line:column', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lt-flags-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    const bad = path.join(data, 'bad.yaml');
    fs.writeFileSync(bad, 'servers:\n  - name: A\n    base_url: "127.0.0.1:8080/completion"\n');
    const err = (await run(ZX, [path.join(ROOT, 'pipelines', 'loadtest.mjs'), '--config', bad, '--data', data], { cwd: ROOT }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    ))!;
    expect(err.code).toBe(2);
    expect(err.stderr).toContain(`${bad}:3:15: servers[0].base_url:`);
    expect(fs.existsSync(path.join(data, 'runs'))).toBe(false);
  });
});
