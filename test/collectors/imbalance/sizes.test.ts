import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyTracker, fetchConcurrency } from '../../../collectors/imbalance/concurrency.ts';
import { countWords, ImbalanceSource } from '../../../collectors/imbalance/generator.ts';
import { escapePrompt, unescapePrompt } from '../../../collectors/imbalance/prompts-file.ts';
import { concurrencyWords, warmupSizes, wordsPrompt } from '../../../collectors/imbalance/sizes.ts';
import { message } from '../../../core/messages.ts';

/** A fake per-GPU metrics endpoint: /metrics?gpu_id=N answers `answer(N)` (a status and a body). */
function fakeMetrics(answer: (gpu: number) => [number, string]) {
  const srv = http.createServer((req, res) => {
    const gpu = Number(new URL(req.url!, 'http://x').searchParams.get('gpu_id'));
    const [status, body] = answer(gpu);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/metrics`, close: () => new Promise((r) => srv.close(() => r())) })),
  );
}

const source = (tracker: ConcurrencyTracker, o: { mode?: 'generate' | 'warmup'; k?: number; n?: number; m?: number; max?: number } = {}) =>
  new ImbalanceSource({ mode: o.mode ?? 'generate', numGpus: o.n ?? 4, k: o.k ?? 2, warmupLoops: o.m ?? 0, maxPrompt: o.max ?? 65536, tracker });

describe('warm-up sizes', () => {
  it('-k 3 -n 4 gives 81, 27, 9, 3 words for GPU0 … GPU3', () => {
    expect(warmupSizes(3, 4)).toEqual([81, 27, 9, 3]);
    expect(warmupSizes(2, 4)).toEqual([16, 8, 4, 2]);
    expect(warmupSizes(2, 20, 65536)[0]).toBe(65536); // 2^20 capped at --max-prompt
  });

  it('the warmup command repeats the pattern in round-robin order for the whole load', async () => {
    const s = source(new ConcurrencyTracker({ numGpus: 4 }), { mode: 'warmup', k: 3 });
    const words = [];
    for (let i = 0; i < 10; i++) words.push((await s.decide(i)).words);
    expect(words).toEqual([81, 27, 9, 3, 81, 27, 9, 3, 81, 27]);
    const item = await s.next();
    expect(countWords(item.prompt)).toBe(81);
    expect(item.base).toMatchObject({ gpu: 0, phase: 'warmup', prompt_words: 81 });
  });

  it('generate sends M warm-up loops, then switches to concurrency²', async () => {
    const t = new ConcurrencyTracker({ numGpus: 4 });
    const s = source(t, { m: 2, k: 3 });
    const d = [];
    for (let i = 0; i < 12; i++) d.push(await s.decide(i));
    expect(d.slice(0, 8).map((x) => [x.phase, x.words])).toEqual([81, 27, 9, 3, 81, 27, 9, 3].map((w) => ['warmup', w]));
    expect(d.slice(8).every((x) => x.phase === 'main' && x.source === 'client')).toBe(true);
  });
});

describe('the concurrency² rule', () => {
  let metrics: { url: string; close: () => Promise<void> };
  const table = [0, 3, 7, 300];
  beforeAll(async () => {
    metrics = await fakeMetrics((gpu) => [200, JSON.stringify({ concurrency: table[gpu] })]);
  });
  afterAll(() => metrics.close());

  it('min(c², max_prompt) words, at least one, with c from the metrics endpoint of the assigned GPU', async () => {
    const s = source(new ConcurrencyTracker({ numGpus: 4, metricsEndpoint: metrics.url }), { max: 65536 });
    const d = await Promise.all([0, 1, 2, 3].map((i) => s.decide(i)));
    expect(d.map((x) => x.gpu)).toEqual([0, 1, 2, 3]);
    expect(d.map((x) => x.concurrency)).toEqual(table);
    expect(d.map((x) => x.words)).toEqual([1, 9, 49, 65536]); // 0 → 1 word; 300² = 90,000 capped
    expect(d.every((x) => x.source === 'metrics')).toBe(true);
    expect(concurrencyWords(5, 20)).toBe(20);
  });

  it('items carry the words, the assigned GPU and the concurrency read, in round-robin order', async () => {
    const s = source(new ConcurrencyTracker({ numGpus: 4, metricsEndpoint: metrics.url }));
    const items = await Promise.all(Array.from({ length: 8 }, () => s.next()));
    expect(items.map((i) => i.base!.gpu)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(items.map((i) => countWords(i.prompt))).toEqual([1, 9, 49, 65536, 1, 9, 49, 65536]);
    expect(items[2]!.base!.extra).toMatchObject({ gpu_assigned: 2, concurrency: 7, concurrency_source: 'metrics' });
  });

  it('without a metrics endpoint, c is the client\'s own in-flight count for that GPU', async () => {
    const t = new ConcurrencyTracker({ numGpus: 2 });
    for (let i = 0; i < 5; i++) t.started(1);
    t.finished(1);
    const s = source(t, { n: 2 });
    expect((await s.decide(0)).words).toBe(1);
    expect(await s.decide(1)).toMatchObject({ gpu: 1, concurrency: 4, words: 16, source: 'client' });
  });
});

describe('a metrics endpoint that fails', () => {
  for (const [what, answer, reason] of [
    ['answers HTTP 500', () => [500, 'boom'], 'HTTP 500 (boom)'],
    ['answers something else', () => [200, '<html>'], 'answered something other than JSON: "<html>" (expected {"concurrency": n})'],
    ['answers JSON without concurrency', () => [200, '{"running": 3}'], 'answered {"running": 3} (expected {"concurrency": n} with n ≥ 0)'],
  ] as [string, () => [number, string], string][]) {
    it(`${what}: falls back to the own in-flight count, says so once, counts every failure`, async () => {
      const m = await fakeMetrics(answer);
      const warnings: string[] = [];
      const t = new ConcurrencyTracker({ numGpus: 2, metricsEndpoint: m.url, warn: (w) => warnings.push(w) });
      for (let i = 0; i < 3; i++) t.started(0);
      const s = source(t, { n: 2 });
      const d = [];
      for (let i = 0; i < 4; i++) d.push(await s.decide(i));
      await m.close();
      expect(d[0]).toMatchObject({ concurrency: 3, words: 9, source: 'fallback' });
      expect(t.failures).toBe(4);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toBe(message.imbalanceMetricsFallback(m.url, reason));
    });
  }

  it('does not answer: a clear reason', async () => {
    const m = await fakeMetrics(() => [200, '{}']);
    await m.close();
    await expect(fetchConcurrency(`${m.url}?gpu_id=0`)).rejects.toThrow(/no answer \(ECONNREFUSED/);
  });
});

describe('prompts file lines', () => {
  it('escapes newlines and backslashes so every prompt reads back exactly', () => {
    for (const p of ['plain words', 'two\nlines', 'a\\nliteral backslash-n', 'cr\r\nlf', 'ends with \\', '\\\\n']) {
      const line = escapePrompt(p);
      expect(line).not.toMatch(/[\n\r]/);
      expect(unescapePrompt(line)).toBe(p);
    }
  });

  it('prompts of N words have N words, and successive prompts differ', () => {
    expect(countWords(wordsPrompt(65536, 3))).toBe(65536);
    expect(wordsPrompt(5, 0)).not.toBe(wordsPrompt(5, 1));
  });
});
