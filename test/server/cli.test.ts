// `servelab sim serve`: flags, presets and config files resolve to the right servers; the
// first stdout line is `listening on …`; SIGTERM closes; bad presets and fields are usage errors.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { resolveConfigs, run, spec } from '../../simulator/server/cmd-serve.ts';
import { presetConfigs, presetNames } from '../../simulator/server/presets.ts';

const resolve = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveConfigs(parseArgs(spec, argv), env);

describe('configuration', () => {
  it('defaults to Llama-3-8B on one H100 on 127.0.0.1 with vLLM H100 batch limits', () => {
    const [c] = resolve([]);
    expect(c).toMatchObject({ model: 'Llama-3-8B', gpu: 'H100', gpus: 1, host: '127.0.0.1', port: 0, maxNumSeqs: 1024, maxNumBatchedTokens: 8192, api: 'vllm' });
  });

  it("takes vLLM's batch limits for the GPU unless given: 256 / 2048 below 70 GiB or on an A100", () => {
    expect(resolve(['--gpu', 'H200'])[0]).toMatchObject({ maxNumSeqs: 1024, maxNumBatchedTokens: 8192 });
    expect(resolve(['--gpu', 'a100'])[0]).toMatchObject({ gpu: 'a100', maxNumSeqs: 256, maxNumBatchedTokens: 2048 });
    expect(resolve(['--gpu', 'A100', '--max-num-seqs', '64'])[0]).toMatchObject({ maxNumSeqs: 64, maxNumBatchedTokens: 2048 });
    expect(() => resolve(['--gpu', 'B300'])).toThrow(/unknown GPU: .*H100/);
  });

  it('applies presets and flags over them', () => {
    expect(resolve(['--preset', 'moe-baseline'])[0]).toMatchObject({ model: 'Mixtral-8x7B', gpus: 4, tp: 4, ep: 1, maxNumSeqs: 32, maxNumBatchedTokens: 8192 });
    expect(resolve(['--preset', 'moe-all2all'])[0]).toMatchObject({ tp: 1, ep: 4 });
    expect(resolve(['--preset', 'lora', '--gpu-loras', '2'])[0]!.lora).toMatchObject({ totalLoras: 128, gpuLoras: 2 });
    expect(resolve(['--preset', 'imbalance', '--routing', 'least-outstanding'])[0]).toMatchObject({ gpus: 4, routing: 'least-outstanding' });
    expect(resolve([], { VLLM_ALLOW_RUNTIME_LORA_UPDATING: 'True' })[0]!.runtimeLoraUpdating).toBe(true);
    for (const name of presetNames()) expect(presetConfigs(name).length).toBeGreaterThan(0);
  });

  it('rejects an unknown preset, model field or value with the valid choices', () => {
    expect(() => resolve(['--preset', 'moe-basline'])).toThrow(/did you mean 'moe-baseline'/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'model: Llama-3-8B\ngpuz: 2\n');
    expect(() => resolve(['--config', file])).toThrow(/bad\.yaml: gpuz: unknown field.*did you mean 'gpus?'/);
    expect(() => resolve(['--model', 'Lama-3-8B'])).toThrow(/unknown model: 'Lama-3-8B'.*did you mean 'Llama-3-8B'/);
    fs.writeFileSync(file, 'gpus: 3\ntp: 2\n');
    expect(() => resolve(['--config', file])).toThrow(CliError);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('serving', () => {
  it('starts one server per `servers:` entry and prints one listening line each', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-'));
    const file = path.join(dir, 'mixed.yaml');
    fs.writeFileSync(file, ['servers:', '  - name: Thinker', '    preset: llama-cpp', '    model: Llama-3-70B', '    gpus: 4', '    tp: 4', '  - name: Flash', '    preset: llama-cpp', ''].join('\n'));
    const lines: string[] = [];
    let stop!: (s: string) => void;
    const done = run(['--config', file], { stdout: (s) => lines.push(s), stopSignal: () => new Promise((r) => (stop = r)) });
    for (let i = 0; i < 100 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(lines).toHaveLength(2);
    const urls = lines.map((l) => l.match(/^listening on (http:\/\/127\.0\.0\.1:\d+)\n$/)![1]!);
    expect(new Set(urls).size).toBe(2);
    for (const u of urls) expect(await (await fetch(`${u}/health`)).json()).toEqual({ status: 'ok' });
    stop('SIGTERM');
    expect(await done).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says which port is taken instead of failing with a stack', async () => {
    const lines: string[] = [];
    let stop!: (s: string) => void;
    const first = run(['--port', '0'], { stdout: (s) => lines.push(s), stopSignal: () => new Promise((r) => (stop = r)) });
    for (let i = 0; i < 100 && lines.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
    const port = lines[0]!.match(/:(\d+)\n$/)![1]!;
    await expect(run(['--port', port], { stdout: () => {}, stopSignal: () => new Promise(() => {}) })).rejects.toThrow(/127\.0\.0\.1:\d+ is in use: pick another --port/);
    stop('SIGTERM');
    expect(await first).toBe(0);
  });

  it('as a process: the first stdout line is `listening on`, SIGTERM exits 0', async () => {
    const child = spawn(process.execPath, ['bin/servelab.js', 'sim', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${first.slice('listening on '.length)}/health`);
    expect(res.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
