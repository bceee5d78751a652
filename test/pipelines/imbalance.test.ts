// End to end: `npx zx pipelines/imbalance.mjs --quick` on the simulated server runs the generator
// and the replay under three balancers; the round-robin imbalance index must exceed the
// load-aware policies' (the feedback loop grows only under round-robin); --from re-analyses.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TEST_ROOT } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx');
const run = promisify(execFile);

async function pipeline(args: string[], data: string) {
  return run(ZX, [path.join(ROOT, 'pipelines', 'imbalance.mjs'), ...args], { cwd: ROOT, env: { ...process.env, SERVELAB_DATA: data, CI: 'true' }, timeout: 170_000, maxBuffer: 64 << 20 });
}

describe('pipelines/imbalance.mjs', () => {
  it('--quick: round-robin ends more imbalanced than least-outstanding and power-of-two; --from re-analyses', { timeout: 300_000 }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-imbalance-e2e-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    const t0 = performance.now();
    const first = await pipeline(['--quick', '--data', data], data);
    const wallS = (performance.now() - t0) / 1000;
    const report = /^report: (.+)$/m.exec(first.stdout)?.[1];
    expect(report, first.stdout + first.stderr).toBeTruthy();
    const runDir = path.dirname(report!);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')).status).toBe('complete');
    expect(first.stdout.match(/RESULTS SUMMARY/g)).toHaveLength(6); // generate + replay × 3 policies
    expect(fs.existsSync(path.join(runDir, 'raw', 'prompts-round-robin.txt'))).toBe(true);
    process.stderr.write(`imbalance --quick wall ${wallS.toFixed(1)} s (2 shared cores)\n`);

    const policy = (await readParquet(path.join(runDir, 'derived', 'imbalance_policy.parquet'))) as Record<string, any>[];
    const gen = (p: string) => policy.find((r) => r.mode === 'generate' && r.policy === p)!;
    expect(policy.filter((r) => r.mode === 'replay').map((r) => r.policy).sort()).toEqual(['least-outstanding', 'power-of-two', 'round-robin']);
    for (const p of ['least-outstanding', 'power-of-two']) {
      expect(gen('round-robin').end_max_over_mean, `round-robin vs ${p}`).toBeGreaterThan(gen(p).end_max_over_mean);
      expect(gen('round-robin').end_cv).toBeGreaterThan(gen(p).end_cv);
    }

    const from = await pipeline(['--from', runDir], data);
    expect(from.stdout).toContain(`report: ${report}`);
    expect(from.stdout).not.toContain('ready at');
  });
});

describe('pipelines/imbalance.mjs flags', () => {
  it('bad flags are usage errors (exit 2) before anything starts; --help has examples', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-imbalance-flags-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    for (const [args, re] of [
      [['--policies', 'random'], /--policies: .*round-robin/],
      [['-k', '1'], /--exp-base: 1 is below the minimum 2/],
      [['--from', path.join(data, 'nope')], /not a run folder/],
    ] as [string[], RegExp][]) {
      const err = await pipeline(args, data).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(err?.code, args.join(' ')).toBe(2);
      expect(err!.stderr).toMatch(re);
    }
    const help = await pipeline(['--help'], data);
    expect(help.stdout).toContain('npx zx pipelines/imbalance.mjs --quick');
    expect(help.stdout).toContain('--no-predict');
  });
});
