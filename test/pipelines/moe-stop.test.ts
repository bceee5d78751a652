// The MoE pipeline under a stop: SIGTERM stops the step running, stops the simulated servers it
// started (none is left listening), marks the run incomplete and exits 143; and a start that
// fails its checks (a --resume folder that holds no run, an unknown backend) creates nothing.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TEST_ROOT } from '../helpers/golden.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx');
const MOE = path.join(ROOT, 'pipelines', 'moe.mjs');

function tempData(): string {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-stop-'));
  onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
  return data;
}

describe('pipelines/moe.mjs stops', () => {
  it('SIGTERM during the benchmark: servers stopped, run incomplete, exit 143', { timeout: 120_000 }, async () => {
    const data = tempData();
    const child = spawn(process.execPath, [ZX, MOE, '--quick', '--data', data], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready at (http:\/\/\S+)/.exec(out);
        if (m && /\[3\/7\] baseline: servelab moe bench/.test(out)) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`pipeline ended early: ${out}${err}`)));
    });
    await new Promise((r) => setTimeout(r, 1500));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(err).toContain('SIGTERM: stopping 1 server(s): baseline');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const runDir = /stopped by SIGTERM; the run is kept in (\S+);/.exec(err)?.[1];
    expect(runDir, err).toBeTruthy();
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir!, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'incomplete', error: 'stopped by SIGTERM' });
  });

  it('a start that fails its checks exits 2 and creates nothing', { timeout: 60_000 }, async () => {
    const data = tempData();
    const missing = path.join(data, 'nonexistent');
    const fails = async (args: string[]) => {
      const e = (await promisify(execFile)(ZX, [MOE, ...args], { cwd: ROOT, env: { ...process.env, SERVELAB_DATA: data } }).then(
        () => null,
        (x: { code: number; stderr: string }) => x,
      ))!;
      expect(e, args.join(' ')).not.toBeNull();
      expect(e.code).toBe(2);
      return e.stderr;
    };
    expect(await fails(['--resume', missing])).toContain(`--resume ${missing}: not a run folder (no manifest.json)`);
    expect(await fails(['--backends', 'foo'])).toContain("--backends: 'foo' is not one of baseline, all2all");
    expect(await fails(['--datasets', missing])).toContain('no index.json');
    expect(await fails(['--count', '0'])).toContain("--count: '0' is not a whole number ≥ 1");
    expect(fs.readdirSync(data)).toEqual([]);
  });
});
