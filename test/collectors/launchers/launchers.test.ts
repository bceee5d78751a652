// Launchers: the vLLM Baseline/DefaultAll2All and llama.cpp command lines as text, readiness
// (503 then 200), a crashing or never-ready server, and the sim launcher against the real server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { commandText, serverCommand, startServer, vllmAll2All, vllmBaseline, type LauncherSpec } from '../../../collectors/launchers/index.ts';

const text = (s: LauncherSpec) => commandText(serverCommand(s));

describe('command lines', () => {
  it('vLLM Baseline: TP=4, the old script knobs', () => {
    expect(text(vllmBaseline())).toBe(
      'vllm serve mistralai/Mixtral-8x7B-v0.1 --port 8000 --host 127.0.0.1 --tensor-parallel-size 4 --max-num-batched-tokens 8192 --max-num-seqs 32 --max-model-len 4096',
    );
    expect(text(vllmBaseline({ model: 'm', port: 9000, batchTokens: 2048, maxSeqs: 16, maxModelLen: 8192 }))).toBe(
      'vllm serve m --port 9000 --host 127.0.0.1 --tensor-parallel-size 4 --max-num-batched-tokens 2048 --max-num-seqs 16 --max-model-len 8192',
    );
    // client-side expert load (moe bench --gates routed)
    expect(text(vllmBaseline({ returnRoutedExperts: true }))).toMatch(/ --max-model-len 4096 --enable-return-routed-experts$/);
    expect(text(vllmAll2All({ returnRoutedExperts: true }))).toMatch(/ --enable-return-routed-experts$/);
    expect(serverCommand({ kind: 'sim', name: 's', preset: 'moe-baseline', returnRoutedExperts: true, entry: 'servelab.js' }).args).toEqual([
      'servelab.js', 'sim', 'serve', '--preset', 'moe-baseline', '--port', '0', '--enable-return-routed-experts',
    ]);
  });

  it('vLLM DefaultAll2All: expert parallel, all2all backend as flag or env, FlashInfer MoE env', () => {
    expect(text(vllmAll2All())).toBe(
      'VLLM_USE_FLASHINFER_MOE_FP16=1 vllm serve mistralai/Mixtral-8x7B-v0.1 --port 8000 --host 127.0.0.1 --tensor-parallel-size 4 --enable-expert-parallel ' +
        '--all2all-backend allgather_reducescatter --max-num-batched-tokens 8192 --max-num-seqs 32 --max-model-len 4096',
    );
    const env = serverCommand({ ...vllmAll2All({ epSize: 8, all2allBackend: 'deepep_low_latency', all2allVia: 'env' }), flashinferMoeBackend: 'latency' });
    expect(env.env).toEqual({ VLLM_ALL2ALL_BACKEND: 'deepep_low_latency', VLLM_USE_FLASHINFER_MOE_FP16: '1', VLLM_FLASHINFER_MOE_BACKEND: 'latency' });
    expect(env.args).not.toContain('--all2all-backend');
    expect(env.args.join(' ')).toContain('--tensor-parallel-size 8 --enable-expert-parallel');
    expect(env.readiness).toEqual({ kind: 'refused-then-200', path: '/health' });
  });

  it('vLLM multi-LoRA and llama.cpp', () => {
    expect(
      text({ kind: 'vllm', name: 'l', model: 'meta-llama/Llama-2-7b-hf', port: 8001, lora: { modules: { a: '/ad/a' }, maxLoras: 4, runtimeUpdates: true } }),
    ).toBe('VLLM_ALLOW_RUNTIME_LORA_UPDATING=True vllm serve meta-llama/Llama-2-7b-hf --port 8001 --host 127.0.0.1 --enable-lora --max-loras 4 --lora-modules a=/ad/a');
    const l = serverCommand({ kind: 'llamacpp', name: 'cpp', model: '/models/7b.gguf', port: 8080, ctxSize: 4096, parallel: 4, gpuLayers: 99 });
    expect(commandText(l)).toBe('llama-server -m /models/7b.gguf --host 127.0.0.1 --port 8080 -c 4096 -np 4 -ngl 99 --metrics');
    expect(l.readiness.kind).toBe('503-then-200');
    expect(text({ kind: 'generate', name: 'g', port: 8002, totalLoras: 128, gpuLoras: 8 })).toBe('python lora_server.py --port 8002 --total-loras 128 --gpu-loras 8');
  });
});

/** A port nothing listens on (connection refused). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
let port = 0;
beforeAll(async () => {
  port = await closedPort();
});
const node = (code: string): LauncherSpec => ({ kind: 'generate', name: 'fake', command: [process.execPath, '-e', code, '--'], port, totalLoras: 1, gpuLoras: 1 });

describe('start and stop', () => {
  it('waits through 503 (loading) until 200', async () => {
    const answers = [503, 503, 200];
    const seen: string[] = [];
    const s = await startServer(node('setTimeout(() => {}, 60000)'), {
      pollMs: 5,
      effects: { fetch: async (url) => (seen.push(url), { status: answers.shift() ?? 200 }) },
    });
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(`http://127.0.0.1:${port}/health`);
    const end = await s.stop();
    expect(end.signal).toBe('SIGTERM');
  });

  it('reports a crash by its exit code and the error-looking log lines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-launch-'));
    const err = await startServer(node("console.log('loading weights'); console.error('torch.OutOfMemoryError: CUDA out of memory'); process.exit(1)"), {
      logDir: dir,
      pollMs: 20,
    }).catch((e) => e);
    expect(err.message).toBe('server fake exited with code 1 (a general error: see the log lines below)');
    expect(err.details).toContain('  torch.OutOfMemoryError: CUDA out of memory');
    expect(err.details).not.toContain('  loading weights');
    expect(fs.readFileSync(path.join(dir, 'server-fake.log'), 'utf8')).toContain('loading weights');
  });

  it('gives up after the timeout, says what it saw, and stops the process', async () => {
    const err = await startServer(node("console.log('still compiling'); setTimeout(() => {}, 60000)"), { timeoutMs: 600, pollMs: 20, graceMs: 500 }).catch((e) => e);
    expect(err.message).toMatch(/^server fake did not become healthy within 1 s \(last: connection refused\); it was stopped$/);
    expect(err.details.join('\n')).toContain('still compiling');
  });

  it('a missing executable is exit 127, command not found', async () => {
    const err = await startServer({ kind: 'llamacpp', name: 'cpp', model: 'x.gguf', port, bin: '/nonexistent/llama-server' }, { pollMs: 10 }).catch((e) => e);
    expect(err.message).toBe('server cpp exited with code 127 (command not found: is it installed and on PATH?)');
  });

  it('sim: starts the simulated MoE server on port 0, answers, stops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-launch-sim-'));
    const s = await startServer({ kind: 'sim', name: 'baseline', preset: 'moe-baseline', seed: 1 }, { logDir: dir, timeoutMs: 60_000 });
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBeTruthy();
      expect((await fetch(s.metricsUrl!)).status).toBe(200);
      const external = await startServer({ kind: 'external', name: 'ext', url: s.url + '/' });
      expect(external.url).toBe(s.url);
    } finally {
      const end = await s.stop();
      expect(end.code === 0 || end.signal === 'SIGTERM').toBe(true);
    }
    expect(fs.readFileSync(path.join(dir, 'server-baseline.log'), 'utf8')).toContain('listening on');
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
  });
});

describe('vLLM binds loopback unless told', () => {
  it('--host 127.0.0.1 by default; a given host is passed as is and the client URL follows it', () => {
    expect(text(vllmBaseline())).toContain(' --host 127.0.0.1 ');
    const spec = { ...vllmBaseline(), host: '10.0.0.5' };
    expect(text(spec)).toContain(' --host 10.0.0.5 ');
    expect(serverCommand(spec).baseUrl).toBe('http://10.0.0.5:8000');
    expect(serverCommand({ ...vllmBaseline(), host: '0.0.0.0' }).baseUrl).toBe('http://127.0.0.1:8000');
  });
});
