// The simulated server's other protocols: llama.cpp /completion and /slots, the LoRA
// /generate server with swap stats, per-GPU concurrency, MoE gate logs, /metrics parsed by a
// Prometheus exposition parser, and the faults collectors are tested against.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLora } from '../../simulator/server/config.ts';
import type { SimServer } from '../../simulator/server/server.ts';
import { post, sseData, startTest } from './helpers.ts';

let open: SimServer[] = [];
async function start(...args: Parameters<typeof startTest>): Promise<SimServer> {
  const s = await startTest(...args);
  open.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(open.map((s) => s.close()));
  open = [];
});

describe('llama.cpp API', () => {
  it('streams partial chunks, ends with stop:true and timings, and sends no [DONE]', async () => {
    const s = await start({ api: 'llamacpp', model: 'Llama-2-7B', servedModelName: 'llama-2-7b-chat', maxNumSeqs: 4 });
    const r = await post(`${s.url}/completion`, { prompt: 'Hello', n_predict: 4, stream: true });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('[DONE]');
    const data = sseData(r.text) as Record<string, unknown>[];
    expect(data).toHaveLength(5);
    expect(Object.keys(data[0]!)).toEqual(['index', 'content', 'tokens', 'stop', 'id_slot', 'tokens_predicted', 'tokens_evaluated']);
    expect(data.slice(0, 4).map((d) => d.tokens_predicted)).toEqual([1, 2, 3, 4]);
    const last = data[4]!;
    expect(last).toMatchObject({ stop: true, tokens_predicted: 4, stop_type: 'limit', model: 'llama-2-7b-chat' });
    expect(last.timings).toMatchObject({ predicted_n: 4, prompt_n: data[0]!.tokens_evaluated });
    const slots = (await (await fetch(`${s.url}/slots`)).json()) as { is_processing: boolean }[];
    expect(slots).toHaveLength(4);
    expect(slots.every((x) => !x.is_processing)).toBe(true);
    const m = await (await fetch(`${s.url}/metrics`)).text();
    expect(m).toMatch(/^llamacpp:tokens_predicted_total 4$/m);
    expect(m).not.toMatch(/^llamacpp:\S+\{/m);
  });

  it('answers 503 on /health while loading (slow start), then ok', async () => {
    // The server's clock is moved by hand, so the test does not race the slow-start window.
    let skewMs = 0;
    const faults = { errorRate: 0, errorMode: 'mixed' as const, stallRate: 0, stallMs: 0, crashAfter: 0, slowStartMs: 60_000 };
    const s = await start({ api: 'llamacpp', faults }, { effects: { warn: () => {}, nowMs: () => performance.now() + skewMs } });
    const first = await fetch(`${s.url}/health`);
    expect(first.status).toBe(503);
    expect(await first.json()).toEqual({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
    const busy = await post(`${s.url}/completion`, { prompt: 'x', n_predict: 1 });
    expect([busy.status, JSON.parse(busy.text).error.type]).toEqual([503, 'unavailable_error']);
    skewMs = 61_000;
    const ok = await fetch(`${s.url}/health`);
    expect([ok.status, await ok.json()]).toEqual([200, { status: 'ok' }]);
  });
});

describe('LoRA /generate server', () => {
  it('generates with an adapter, counts swaps, resets runtime counters only', async () => {
    const s = await start({ model: 'Llama-2-7B', lora: { ...defaultLora(), totalLoras: 8, gpuLoras: 2, maxLoras: 1 } });
    const health = (await (await fetch(`${s.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ total_loras: 8, gpu_loras: 2 });
    const r = JSON.parse((await post(`${s.url}/generate`, { prompt: 'Hello, how are you?', model_id: 5, max_tokens: 4 })).text);
    // the original protocol's keys, then lora_resident (adapter 5 was not in HBM when scheduled)
    expect(Object.keys(r)).toEqual(['text', 'model_id', 'ttft', 'completion_time', 'lora_resident']);
    expect([r.model_id, r.lora_resident]).toEqual([5, false]);
    expect(r.text[0]).toMatch(/^Hello, how are you\?( [a-z]+){4}$/);
    expect(r.ttft).toBeGreaterThan(0);
    expect(r.completion_time).toBeGreaterThan(r.ttft);
    const again = JSON.parse((await post(`${s.url}/generate`, { prompt: 'again', model_id: 1, max_tokens: 2 })).text); // still resident (LRU evicted lora-0): no swap
    expect(again.lora_resident).toBe(true);
    const stats = (await (await fetch(`${s.url}/swap_stats`)).json()) as { init: unknown; runtime: { swap_count: number } };
    // resident: the model_ids in HBM now per replica, least recently used first
    expect(stats).toEqual({ init: { swap_calls: 1, swap_count: 2 }, runtime: { swap_calls: 1, swap_count: 1 }, resident: [[5, 1]] });
    await post(`${s.url}/reset_swap_stats`, {});
    expect(await (await fetch(`${s.url}/swap_stats`)).json()).toEqual({ init: { swap_calls: 1, swap_count: 2 }, runtime: { swap_calls: 0, swap_count: 0 }, resident: [[5, 1]] });
    expect((await post(`${s.url}/generate`, { prompt: 'x', model_id: 99 })).status).toBe(400);
    expect((await post(`${s.url}/generate`, '{bad')).status).toBe(422);
  });
});

describe('several GPUs behind one front', () => {
  it('reports per-GPU concurrency under round-robin', async () => {
    const s = await start({ gpus: 4 });
    const reqs = [0, 1, 2, 3, 4].map((i) => post(`${s.url}/v1/completions`, { prompt: `p${i}`, max_tokens: 120, ignore_eos: true }));
    const concurrency = () => Promise.all([0, 1, 2, 3].map(async (g) => ((await (await fetch(`${s.url}/metrics?gpu_id=${g}`)).json()) as { concurrency: number }).concurrency));
    let conc = await concurrency();
    for (let i = 0; i < 50 && conc.reduce((a, b) => a + b, 0) < 5; i++) conc = await concurrency();
    expect(conc).toEqual([2, 1, 1, 1]);
    await Promise.all(reqs);
    expect(await (await fetch(`${s.url}/metrics?gpu_id=0`)).json()).toEqual({ concurrency: 0 });
    expect((await fetch(`${s.url}/metrics?gpu_id=9`)).status).toBe(400);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const fams = parsePrometheusTextFormat(text);
    // The parser folds labelled histograms into one sample, so counts are read from the text.
    const histCount = (name: string) => [...text.matchAll(new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    const running = fams.find((f) => f.name === 'vllm:num_requests_running')!;
    expect(running.type).toBe('GAUGE');
    expect(running.metrics.map((m) => m.labels?.engine)).toEqual(['0', '1', '2', '3']);
    const gen = fams.find((f) => f.name === 'vllm:generation_tokens_total')!;
    expect(gen.type).toBe('COUNTER');
    expect(gen.metrics.reduce((a, m) => a + Number(m.value), 0)).toBe(600);
    const ttft = fams.find((f) => f.name === 'vllm:time_to_first_token_seconds')!;
    expect(ttft.type).toBe('HISTOGRAM');
    expect(histCount('vllm:time_to_first_token_seconds')).toBe(5);
    expect(histCount('vllm:e2e_request_latency_seconds')).toBe(5);
    expect(fams.find((f) => f.name === 'servelab:token_lateness_seconds')!.type).toBe('HISTOGRAM');
    expect(histCount('servelab:token_lateness_seconds')).toBe(600);
    const success = fams.find((f) => f.name === 'vllm:request_success_total')!;
    expect(success.metrics.filter((m) => m.labels?.finished_reason === 'length').reduce((a, m) => a + Number(m.value), 0)).toBe(5);
  });
});

describe('MoE gate logs', () => {
  it('writes one line per step and layer, and records over HTTP', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gates-'));
    const s = await start({ model: 'Mixtral-8x7B', gpus: 4, tp: 4, maxModelLen: 4096, maxNumSeqs: 32, gateLogDir: dir });
    expect(await (await fetch(`${s.url}/start_expert_distribution_record`, { method: 'POST' })).text()).toMatch(/Start/);
    await Promise.all(['def solve(x): return x', 'the patient has a fever'].map((p) => post(`${s.url}/v1/completions`, { prompt: p, max_tokens: 3 })));
    await fetch(`${s.url}/stop_expert_distribution_record`, { method: 'POST' });
    const dump = (await (await fetch(`${s.url}/dump_expert_distribution_record`, { method: 'POST' })).json()) as { num_records: number; files: string[]; records: { layer: number }[] };
    await s.close();
    open = [];
    const lines = fs.readFileSync(path.join(dir, 'gate_logs_0.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(lines[0])).toEqual(['step', 'layer', 'num_tokens', 'expert_counts', 'rank', 't']);
    expect(new Set(lines.map((l) => l.layer)).size).toBe(32);
    for (const l of lines) {
      expect(l.expert_counts).toHaveLength(8);
      expect(l.expert_counts.reduce((a: number, b: number) => a + b, 0)).toBe(l.num_tokens * 2); // top-2
    }
    expect(dump.num_records).toBe(lines.length);
    expect(dump.files).toEqual([path.join(dir, 'gate_logs_dump0_0.jsonl')]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('faults', () => {
  it('fails requests with HTTP 500 or a mid-stream error after 200', async () => {
    const faults = { errorRate: 1, errorMode: 'stream' as const, stallRate: 0, stallMs: 0, crashAfter: 0, slowStartMs: 0 };
    const s = await start({ faults });
    const r = await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 6, stream: true });
    expect(r.status).toBe(200);
    const data = sseData(r.text);
    expect(data).toHaveLength(5);
    expect(data.at(-2)).toMatchObject({ error: { code: 500, type: 'InternalServerError' } });
    expect(data.at(-1)).toBe('[DONE]');
    const h = await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 6 });
    expect(h.status).toBe(500);
  });

  it('stalls a stream and calls the crash hook after N requests', async () => {
    let crashed = '';
    const faults = { errorRate: 0, errorMode: 'mixed' as const, stallRate: 1, stallMs: 200, crashAfter: 1, slowStartMs: 0 };
    const s = await start({ faults }, { effects: { warn: () => {}, crash: (why) => (crashed = why) } });
    const r = await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 6, stream: true });
    expect(sseData(r.text)).toHaveLength(7);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^servelab:injected_faults_total\{kind="stall"\} 1\.0$/m);
    expect(crashed).toBe('');
    await post(`${s.url}/v1/completions`, { prompt: 'x', max_tokens: 1 });
    expect(crashed).toMatch(/crash after 1/);
  });
});
