// End to end: `npx zx pipelines/lora.mjs --quick` on the simulated server: smoke, probe at the
// smallest and largest M, sweep M = 16, 4, 2 per regime into CSVs, and the notebook; TTFT rises as
// M falls and no adapter swaps when every one is resident. Then --from re-renders with no server.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TEST_ROOT } from '../helpers/golden.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const ZX = path.join(ROOT, 'node_modules', '.bin', 'zx');
const run = promisify(execFile);

async function pipeline(args: string[], data: string) {
  return run(ZX, [path.join(ROOT, 'pipelines', 'lora.mjs'), ...args], { cwd: ROOT, env: { ...process.env, SERVELAB_DATA: data }, timeout: 280_000, maxBuffer: 64 << 20 });
}

const csv = (file: string) => {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
};

describe('pipelines/lora.mjs', () => {
  it('--quick: TTFT rises as M falls, no swaps at M = N, CSVs in the old columns, a report; --from re-renders', { timeout: 400_000 }, async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lora-e2e-'));
    onTestFinished(() => fs.rmSync(data, { recursive: true, force: true }));
    const first = await pipeline(['--quick', '--data', data, '--no-predict'], data);
    const runDir = /^run: (.+)$/m.exec(first.stdout)?.[1];
    expect(runDir, first.stdout + first.stderr).toBeTruthy();
    expect(first.stdout).toMatch(/all \d+ checks passed/);
    expect(first.stdout).toContain('COMPARATIVE SUMMARY (short prompts)');
    expect(first.stdout).toContain('COMPARATIVE SUMMARY (long prompts)');
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir!, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.config).toMatchObject({ quick: true, predict: false });
    for (const regime of ['short', 'long']) {
      const rows = csv(path.join(runDir!, `ttft_${regime}_total16.csv`));
      expect(Object.keys(rows[0]!).slice(0, 8)).toEqual(['run_timestamp', 'total_loras', 'gpu_loras', 'prompt_regime', 'arrival_rate', 'num_requests', 'ttft_median', 'ttft_p99']);
      expect(rows.map((r) => [r.gpu_loras, r.status])).toEqual([['16', 'ok'], ['4', 'ok'], ['2', 'ok']]);
      const at = (m: string) => rows.find((r) => r.gpu_loras === m)!;
      expect(Number(at('16').swap_count), regime).toBe(0);
      expect(Number(at('2').swap_count), regime).toBeGreaterThan(0);
      expect(Number(at('2').ttft_mean), `${regime}: mean TTFT at M = 2 vs M = 16`).toBeGreaterThan(Number(at('16').ttft_mean));
      expect(Number(at('2').ttft_p99), `${regime}: p99 TTFT at M = 2 vs M = 16`).toBeGreaterThan(Number(at('16').ttft_p99));
    }
    const html = fs.readFileSync(path.join(runDir!, 'report.html'), 'utf8');
    expect(html).toMatch(/TTFT p50 [+−]\d+% from all-resident to 2 resident \(short prompts\)/);
    expect(html).toContain('simulated server');

    fs.rmSync(path.join(runDir!, 'report.html'));
    const again = await pipeline(['--from', runDir!], data);
    expect(again.stdout).toContain(`run: ${runDir}`);
    expect(fs.existsSync(path.join(runDir!, 'report.html'))).toBe(true);
  });
});
