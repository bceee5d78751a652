// The zx counterparts of launch_baseline.sh, launch_defaultAll2All.sh and client.sh: their
// command lines (--dry-run) with the old positional knobs, and launch --sim + client end to end.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_ROOT } from '../../helpers/golden.ts';

const ROOT = path.resolve(TEST_ROOT, '..');
const exec = promisify(execFile);
const script = (name: string) => path.join(ROOT, 'collectors', name);
const dry = async (name: string, args: string[]) => (await exec(process.execPath, [script(name), ...args, '--dry-run'], { cwd: ROOT })).stdout.trim();

describe('launch scripts and client', () => {
  it('print the old scripts\' command lines with --dry-run', async () => {
    expect(await dry('launch_baseline.mjs', [])).toBe(
      'vllm serve mistralai/Mixtral-8x7B-v0.1 --port 8000 --host 127.0.0.1 --tensor-parallel-size 4 --max-num-batched-tokens 8192 --max-num-seqs 32 --max-model-len 4096',
    );
    expect(await dry('launch_baseline.mjs', ['mistralai/Mixtral-8x7B-v0.1', '8000', '2048', '32', '4096'])).toContain('--max-num-batched-tokens 2048');
    expect(await dry('launch_defaultAll2All.mjs', ['mistralai/Mixtral-8x7B-v0.1', '8000', '8192', '32', '4096', '4'])).toBe(
      'VLLM_USE_FLASHINFER_MOE_FP16=1 vllm serve mistralai/Mixtral-8x7B-v0.1 --port 8000 --host 127.0.0.1 --tensor-parallel-size 4 --enable-expert-parallel --all2all-backend allgather_reducescatter --max-num-batched-tokens 8192 --max-num-seqs 32 --max-model-len 4096',
    );
    expect(await dry('launch_defaultAll2All.mjs', ['--all2all-env'])).toMatch(/^VLLM_ALL2ALL_BACKEND=allgather_reducescatter VLLM_USE_FLASHINFER_MOE_FP16=1 vllm serve/);
    expect(await dry('launch_baseline.mjs', ['--sim'])).toMatch(/bin\/servelab\.js sim serve --preset moe-baseline --port 8000$/);
    const ds = path.join(os.tmpdir(), '007_0.4907.jsonl');
    fs.writeFileSync(ds, '{"prompt":"hi"}\n');
    expect(await dry('client.mjs', [ds, '256', '8123'])).toContain('--base-url http://127.0.0.1:8123 --endpoint /v1/completions --dataset-name file');
    await expect(exec(process.execPath, [script('launch_baseline.mjs'), 'm', 'notaport', '--dry-run'])).rejects.toMatchObject({ code: 2 });
  });

  it('launch --sim serves on PORT; client waits for /health and writes results_json/<index>.json with the prediction', { timeout: 90_000 }, async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-client-'));
    const ds = path.join(work, '003_0.2500.jsonl');
    fs.writeFileSync(ds, ['What is a derivative?', 'Why is the sky blue?', 'How do I poach an egg?'].map((p) => JSON.stringify({ prompt: p, domain: 'x' })).join('\n') + '\n');
    // The client starts first and must wait until the server is up.
    const client = exec(process.execPath, [script('client.mjs'), ds, '64', String(port)], {
      cwd: work,
      env: { ...process.env, NUM_PROMPTS: '3', OUTPUT_LEN: '8', SERVELAB_DATA: path.join(work, 'data') },
      timeout: 80_000,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const launcher = spawn(process.execPath, [script('launch_baseline.mjs'), 'Mixtral-8x7B', String(port), '--sim'], { cwd: work, stdio: 'ignore', env: { ...process.env, SERVELAB_LOG_DIR: path.join(work, 'logs') } });
    try {
      const out = await client;
      expect(out.stdout).toContain('ready');
      const result = JSON.parse(fs.readFileSync(path.join(work, 'results_json', '003.json'), 'utf8'));
      expect(result.completed).toBe(3);
      expect(result.mean_ttft_ms).toBeGreaterThan(0);
      expect(result.imbalance_components).toHaveProperty('domain_concentration', 1);
      expect(fs.readFileSync(path.join(work, 'logs', 'server-baseline.log'), 'utf8')).toContain('listening on');
    } finally {
      launcher.kill('SIGINT');
      await new Promise((r) => launcher.once('exit', r));
    }
  });
});
