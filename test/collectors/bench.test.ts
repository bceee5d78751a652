import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../collectors/cmd-bench.ts';
import { CliError } from '../../core/errors.ts';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

let srv: SseServer;
let data: string;
beforeAll(async () => {
  srv = await startSseServer({ chunks: 8 });
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-bench-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await srv.close();
  fs.rmSync(data, { recursive: true, force: true });
});

const base = () => ['--base-url', srv.url, '--data', data, '--dataset-name', 'random', '--random-input-len', '16', '--random-output-len', '8', '--num-prompts', '30'];

describe('servelab bench', () => {
  it('writes a run and a result JSON with vLLM keys computed in SQL', async () => {
    const out = path.join(data, 'result.json');
    const code = await run([...base(), '--request-rate', '300', '--max-concurrency', '8', '--goodput', 'ttft:10000', 'e2el:10000', '--percentile-metrics', 'ttft,tpot,itl,e2el', '--metric-percentiles', '50,99', '--result-json', out, '--run-id', 'keys', '--threshold', 'completed>=30']);
    expect(code).toBe(0);
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    for (const k of ['date', 'endpoint_type', 'model_id', 'num_prompts', 'request_rate', 'burstiness', 'max_concurrency', 'duration', 'completed', 'failed',
      'total_input_tokens', 'total_output_tokens', 'request_throughput', 'request_goodput', 'output_throughput', 'total_token_throughput', 'max_concurrent_requests',
      'mean_ttft_ms', 'median_ttft_ms', 'std_ttft_ms', 'p50_ttft_ms', 'p99_ttft_ms', 'mean_tpot_ms', 'p99_itl_ms', 'p99_e2el_ms', 'mean_client_queue_time_ms', 'p99_e2el_including_client_queue_ms']) {
      expect(r, k).toHaveProperty(k);
    }
    expect(r.model_id).toBe('test-model');
    expect([r.completed, r.failed, r.total_input_tokens, r.total_output_tokens]).toEqual([30, 0, 30 * 16, 30 * 8]);
    expect(r.request_goodput).toBeCloseTo(r.request_throughput, 6);
    expect(r.max_concurrent_requests).toBeLessThanOrEqual(8);
    expect(r.p99_ttft_ms).toBeGreaterThanOrEqual(r.median_ttft_ms);
    const manifest = JSON.parse(fs.readFileSync(path.join(data, 'runs/bench/keys/manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    const chunkLines = fs.readFileSync(path.join(data, 'runs/bench/keys/raw/chunks.jsonl'), 'utf8').trim().split('\n');
    expect(chunkLines.length).toBe(30 * 8);
    // the engine writes chunk rows from a template: the exact text run.append (JSON.stringify) gives
    for (const line of chunkLines) {
      const { run: runId, shard, request_id, idx, t_ns, tokens, ...rest } = JSON.parse(line);
      expect(rest).toEqual({});
      expect(line).toBe(JSON.stringify({ run: runId, shard, request_id, idx, t_ns, tokens }));
    }
  });

  it('a failed threshold exits 3; errors are counted by kind', async () => {
    const file = path.join(data, 'prompts.txt');
    fs.writeFileSync(file, 'hello\nmode:503 please\nmode:hang\n');
    const out = path.join(data, 'r2.json');
    const code = await run(['--base-url', srv.url, '--data', data, '--dataset-name', 'file', '--dataset-path', file, '--num-prompts', '3', '--timeout', '0.3', '--result-json', out, '--threshold', 'failed<1', '--run-id', 'thr']);
    expect(code).toBe(3);
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect([r.completed, r.failed]).toEqual([1, 2]);
    expect(r.errors).toEqual({ http_error: 1, http_503: 1, timeout: 1, contention: 2 });
  });

  it('bad flags and a malformed dataset line are errors that say what to fix', async () => {
    await expect(run([...base(), '--threshold', 'p99 ttft 500'])).rejects.toThrow(/expected KEY<VALUE/);
    const file = path.join(data, 'bad.jsonl');
    fs.writeFileSync(file, '{"prompt":"a"}\n{"promt":"b"}\n');
    await expect(run(['--base-url', srv.url, '--data', data, '--dataset-name', 'file', '--dataset-path', file])).rejects.toThrow(`${file}:2: prompt: missing`);
    await expect(run(['--base-url', srv.url, '--endpoint', '/v2/foo', '--data', data])).rejects.toBeInstanceOf(CliError);
  });
});

describe('servelab bench input checks before any load', () => {
  it('rejects a rate ≤ 0, a burstiness ≤ 0 and a threshold on a key the result never has, with exit 2 and no run', async () => {
    for (const args of [['--request-rate', '-1'], ['--burstiness', '0'], ['--threshold', 'foo<3'], ['--threshold', 'max_output_tokens_per_s>1'], ['--threshold', 'mean_send_lag_ms<3']]) {
      const err = await run([...base(), ...args, '--run-id', 'never']).catch((e: unknown) => e);
      expect(err, args.join(' ')).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
    }
    expect(fs.existsSync(path.join(data, 'runs/bench/never'))).toBe(false);
  });

  it('exits 1 when no request succeeded; reusing a run id is a usage error', async () => {
    const file = path.join(data, 'all503.txt');
    fs.writeFileSync(file, 'mode:503 a\nmode:503 b\n');
    const code = await run(['--base-url', srv.url, '--data', data, '--dataset-name', 'file', '--dataset-path', file, '--num-prompts', '2', '--run-id', 'allfail']);
    expect(code).toBe(1);
    const again = await run(['--base-url', srv.url, '--data', data, '--dataset-name', 'file', '--dataset-path', file, '--num-prompts', '2', '--run-id', 'allfail']).catch((e: unknown) => e);
    expect((again as CliError).exitCode).toBe(2);
    expect((again as CliError).message).toMatch(/run already exists/);
  });
});
