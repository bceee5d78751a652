import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { monotonicClock } from '../../core/clock.ts';
import { createRun } from '../../core/run.ts';
import { KV_CACHE_METRICS, parsePrometheus, scrapeOnce, withEngineSums } from '../../collectors/scrape.ts';
import { SAMPLE_METRICS, startSseServer } from '../helpers/sse-server.ts';

describe('Prometheus scrape', () => {
  it('parses labels (escapes, commas in values), skips HELP/TYPE, and sums over engine', () => {
    const s = parsePrometheus(SAMPLE_METRICS + 'x{a="q\\"uote",b="1,2"} 3 1700000000\nplain 4\n');
    expect(s.find((x) => x.metric === 'x')).toEqual({ metric: 'x', labels: { a: 'q"uote', b: '1,2' }, value: 3 });
    expect(s.find((x) => x.metric === 'plain')!.value).toBe(4);
    const lora = s.find((x) => x.metric === 'vllm:lora_requests_info')!;
    expect(lora.labels.running_lora_adapters).toBe('sql-lora,chat-lora');
    const summed = withEngineSums(s);
    const running = summed.find((x) => x.metric === 'vllm:num_requests_running' && x.labels.engine === 'sum');
    expect(running).toEqual({ metric: 'vllm:num_requests_running', labels: { model_name: 'm', engine: 'sum' }, value: 15 });
    // the old KV name (vLLM ≤ 0.8) is kept and summed too
    expect(KV_CACHE_METRICS).toContain('vllm:gpu_cache_usage_perc');
    expect(summed.find((x) => x.metric === 'vllm:gpu_cache_usage_perc' && x.labels.engine === 'sum')!.value).toBeCloseTo(0.6875);
  });

  it('a bad line names the source and line', () => {
    expect(() => parsePrometheus('ok 1\nbad{x=1} 2\n', 'http://h/metrics')).toThrow(/http:\/\/h\/metrics:2/);
  });

  it('writes scrapes records for Prometheus text and /metrics?gpu_id=N JSON', async () => {
    const srv = await startSseServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-scrape-'));
    const run = createRun({ experiment: 't', runId: 's', dataDir: dir });
    try {
      const clock = monotonicClock();
      const n = await scrapeOnce(run, { url: `${srv.url}/metrics`, kind: 'prometheus', name: 'vllm' }, { clock });
      const g = await scrapeOnce(run, { url: `${srv.url}/metrics?gpu_id=2`, kind: 'gpu-json' }, { clock });
      run.finish('complete');
      expect(g).toBe(1);
      const lines = fs.readFileSync(run.rawFile('scrapes'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.length).toBe(n + 1);
      expect(lines.at(-1)).toMatchObject({ metric: 'concurrency', labels: { gpu_id: '2' }, value: 2 });
      expect(lines.some((l) => l.metric === 'vllm:num_requests_waiting' && l.labels.engine === 'sum' && l.value === 4)).toBe(true);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
