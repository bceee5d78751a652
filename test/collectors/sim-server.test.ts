// Integration: the load engine against the simulated server (`servelab sim serve`), vLLM
// OpenAI API with usage, /metrics in vLLM names, per-GPU JSON, and the LoRA /generate API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeBenchResult, firstModel, runLoad } from '../../collectors/bench.ts';
import type { Endpoint } from '../../collectors/client.ts';
import { makeItem } from '../../collectors/workloads/common.ts';
import { createRun } from '../../core/run.ts';
import { type Spawned, spawnListening } from '../helpers/spawn-server.ts';

const bin = path.resolve('bin/servelab.js');
let vllm: Spawned;
let lora: Spawned;
let llama: Spawned;
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sim-'));

beforeAll(async () => {
  [vllm, lora, llama] = await Promise.all([
    spawnListening(process.execPath, [bin, 'sim', 'serve', '--port', '0', '--gpus', '2', '--seed', '1']),
    spawnListening(process.execPath, [bin, 'sim', 'serve', '--port', '0', '--preset', 'lora', '--total-loras', '4', '--gpu-loras', '2']),
    spawnListening(process.execPath, [bin, 'sim', 'serve', '--port', '0', '--api', 'llamacpp']),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([vllm?.kill(), lora?.kill(), llama?.kill()]);
  fs.rmSync(data, { recursive: true, force: true });
});

describe('against the simulated server', () => {
  it('completions and chat streams: usage counts, ordered timestamps, scrapes, SQL figures', async () => {
    const model = await firstModel(vllm.url);
    const run = createRun({ experiment: 'sim', runId: 'openai', dataDir: data });
    const eps: Endpoint[] = [
      { name: 'cmpl', baseUrl: vllm.url, path: '/v1/completions', protocol: 'openai-completions', model, weight: 1 },
      { name: 'chat', baseUrl: vllm.url, path: '/v1/chat/completions', protocol: 'openai-chat', model, weight: 1 },
    ];
    const items = Array.from({ length: 4 }, (_, i) => makeItem(`prompt number ${i} about serving`, { maxTokens: 8, ignoreEos: true }));
    const out = await runLoad(run, {
      endpoints: eps, items, numPrompts: 12, requestRate: 40, seed: 2, saveChunks: true, timeoutMs: 30_000,
      scrape: [{ url: `${vllm.url}/metrics`, kind: 'prometheus' }, { url: `${vllm.url}/metrics?gpu_id=1`, kind: 'gpu-json' }],
    });
    run.finish('complete');
    expect(out.records).toBe(12);
    const recs = fs.readFileSync(run.rawFile('requests'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const r of recs) {
      expect(r.status, r.error).toBe('ok');
      expect(r.output_tokens_server).toBe(8);
      expect(r.output_tokens).toBe(8);
      expect(r.sent_ns).toBeLessThanOrEqual(r.first_token_ns);
      expect(r.first_token_ns).toBeLessThanOrEqual(r.last_token_ns);
      if (r.endpoint === 'chat') expect(r.first_chunk_ns).toBeLessThanOrEqual(r.first_token_ns);
    }
    const scrapes = fs.readFileSync(run.rawFile('scrapes'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(scrapes.some((s) => s.metric === 'vllm:num_requests_running')).toBe(true);
    expect(scrapes.some((s) => s.metric === 'concurrency' && s.labels.gpu_id === '1')).toBe(true);
    const fig = await computeBenchResult(run.dir, { metrics: ['ttft', 'tpot', 'itl', 'e2el'], percentiles: [50, 99] });
    expect(fig.completed).toBe(12);
    expect(fig.total_output_tokens).toBe(96);
    expect(fig.p99_ttft_ms!).toBeGreaterThan(0);
    expect(fig.mean_tpot_ms!).toBeGreaterThan(0);
  });

  it('/generate: server ttft and completion_time, model_id as the adapter', async () => {
    const run = createRun({ experiment: 'sim', runId: 'lora', dataDir: data });
    const ep: Endpoint = { name: 'gen', baseUrl: lora.url, path: '/generate', protocol: 'generate' };
    const items = [0, 3].map((id) => ({ ...makeItem('Hello, how are you?', { maxTokens: 4 }), adapter: String(id) }));
    await runLoad(run, { endpoints: [ep], items, numPrompts: 4, requestRate: Infinity, stream: false, timeoutMs: 30_000 });
    run.finish('complete');
    const recs = fs.readFileSync(run.rawFile('requests'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.length).toBe(4);
    for (const r of recs) {
      expect(r.status, r.error).toBe('ok');
      expect(r.server_ttft_s).toBeGreaterThan(0);
      expect(r.server_latency_s).toBeGreaterThanOrEqual(r.server_ttft_s);
      expect(['0', '3']).toContain(r.adapter);
    }
  });

  it('llama.cpp /completion: ends on stop:true, timings kept, one chunk per token', async () => {
    const run = createRun({ experiment: 'sim', runId: 'llama', dataDir: data });
    const ep: Endpoint = { name: 'llama', baseUrl: llama.url, path: '/completion', protocol: 'llamacpp' };
    await runLoad(run, { endpoints: [ep], items: [makeItem('a short prompt', { maxTokens: 6, ignoreEos: true })], numPrompts: 3, requestRate: Infinity, timeoutMs: 30_000 });
    run.finish('complete');
    const recs = fs.readFileSync(run.rawFile('requests'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const r of recs) {
      expect(r.status, r.error).toBe('ok');
      expect([r.output_tokens_server, r.chunks]).toEqual([6, 6]);
      expect(r.server_timings.predicted_n).toBe(6);
    }
  });
});
