// The imbalance_* stages on a hand-made run: 2 GPUs, 4 requests, times in quarter seconds so
// every value below can be checked by eye (Q = 0.25 s).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { createRun } from '../../core/run.ts';
import { readParquet } from '../helpers/parquet.ts';

const Q = 250_000_000;
const req = (id: string, gpu: number, sent: number, first: number | null, last: number | null, done: number, words: number, promptTokens: number | null, out: number | null, status = 'ok', http = 200) => ({
  request_id: id, endpoint: 'round-robin', protocol: 'openai-chat', dataset: 'generate', gpu, phase: 'main', prompt_words: words,
  prompt_tokens_server: promptTokens, output_tokens: out, sent_ns: sent * Q, first_token_ns: first === null ? null : first * Q,
  last_token_ns: last === null ? null : last * Q, done_ns: done * Q, status, http_status: http, extra: { gpu_assigned: gpu, concurrency_source: id === 'c' ? 'fallback' : 'metrics' },
});

describe('imbalance stages', () => {
  it('in flight, outstanding tokens, the imbalance index, the end-of-load comparison and the summary', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-imbalance-stages-'));
    const run = createRun({ experiment: 'imbalance', dir: path.join(dir, 'r1') });
    // GPU0: a (0 → 4 Q), b (1 → 4 Q), first tokens at 2 Q; GPU1: c (1 → 3 Q); d refused with 400 at 1 Q (never in flight)
    for (const r of [
      req('a', 0, 0, 2, 4, 4, 80, 100, 10),
      req('b', 0, 1, 2, 4, 4, 80, 100, 10),
      req('c', 1, 1, 2, 3, 3, 8, 10, 2),
      req('d', 1, 1, null, null, 1, 5000, null, null, 'http_error', 400),
    ]) run.append('requests', r as never);
    run.finish('complete');
    const results = await runStages({ runDir: run.dir, stages: ['imbalance_policy', 'imbalance_summary', 'imbalance_prompt_words', 'imbalance_latency_by_gpu'], log: () => {} });
    const by = Object.fromEntries(await Promise.all(results.map(async (r) => [r.stage, (await readParquet(r.output)) as Record<string, any>[]] as const)));

    const load = by.imbalance_load!;
    const series = (gpu: number, col: string) => load.filter((r) => r.gpu === gpu).map((r) => Number(r[col]));
    expect(load.filter((r) => r.gpu === 0).map((r) => r.t_s)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(series(0, 'in_flight')).toEqual([1, 2, 2, 2, 0]);
    expect(series(1, 'in_flight')).toEqual([0, 1, 1, 0, 0]);
    // before the first token: prompt + output tokens; after: the output still to decode
    expect(series(0, 'outstanding_tokens')).toEqual([110, 220, 20, 10, 0]);
    expect(series(1, 'outstanding_tokens')).toEqual([0, 12, 2, 0, 0]);
    expect(load.filter((r) => r.gpu === 0).map((r) => r.sending)).toEqual([true, true, false, false, false]);

    const idx = by.imbalance_index!;
    expect(idx.map((r) => r.max_over_mean)).toEqual([2, 2 / 1.5, 2 / 1.5, 2, null]);
    expect(idx[1]!.cv).toBeCloseTo(0.5 / 1.5, 12);
    expect(idx.map((r) => r.busiest_gpu)).toEqual([0, 0, 0, 0, 0]);

    // end window: the last quarter of the sending period (t = 0.25 s here)
    const pol = by.imbalance_policy![0]!;
    expect(pol.gpu0_over_mean).toBeCloseTo(2 / 1.5, 12);
    expect([pol.busiest_gpu, Number(pol.samples)]).toEqual([0, 1]);
    expect(pol.end_max_over_mean).toBeCloseTo(2 / 1.5, 12);
    expect(pol.mean_max_over_mean).toBeCloseTo((2 + 2 / 1.5) / 2, 12);

    const s = by.imbalance_summary![0]!;
    expect([s.prompts_sent, s.prompts_received, s.prompts_failed, s.tokens_generated, s.tokens_received, s.metrics_failures, s.http_400].map(Number)).toEqual([4, 3, 1, 5168, 22, 1, 1]);
    expect([s.elapsed_s, s.tokens_per_s_generated, s.tokens_per_s_received]).toEqual([1, 5168, 22]);

    const lat = by.imbalance_latency_by_gpu!;
    expect(lat.map((r) => [r.gpu, Number(r.requests), Number(r.failed), r.ttft_p50_ms, r.e2e_p50_ms])).toEqual([
      [0, 2, 0, 375, 875],
      [1, 1, 1, 250, 500],
    ]);
    const words = by.imbalance_prompt_words!;
    // one 0.5 s bucket: GPU0 got a and b (80 words each), GPU1 c and the refused d ((8 + 5000) / 2)
    expect(words.map((r) => [r.gpu, r.t_s, r.mean_words, Number(r.requests)])).toEqual([
      [0, 0, 80, 2],
      [1, 0, 2504, 2],
    ]);
  });
});
