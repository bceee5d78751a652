// `servelab sim predict` golden test on a tiny hand-made run (test/input/predict-tiny/): the
// predicted records and the comparison stages, checked by eye in test/output/predict-tiny/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { CliError } from '../../core/errors.ts';
import { run } from '../../simulator/cmd-sim-predict.ts';
import { checkGolden, inputDir, roundFloats } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

let tmp: string;
let out: string[];
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-predict-'));
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true));
});
afterAll(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function copyRun(name: string, edit?: (m: Record<string, unknown>) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(inputDir('predict-tiny'), dir, { recursive: true });
  if (edit) {
    const f = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(f, 'utf8'));
    edit(m);
    fs.writeFileSync(f, JSON.stringify(m));
  }
  return dir;
}

const lines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('sim predict on a tiny run', () => {
  it('replays the ok requests at their sent times with their token counts (golden)', async () => {
    const dir = copyRun('golden');
    expect(await run([dir])).toBe(0);
    const rows = lines(path.join(dir, 'raw/predicted/requests.jsonl')).sort((a, b) => String(a.request_id).localeCompare(String(b.request_id)));
    const golden = checkGolden('predict-tiny', 'predicted_requests.json', JSON.stringify(rows, null, 2) + '\n');
    expect(golden.ok, golden.message).toBe(true);
    // r4 failed in the measurement: not replayed; the rest keep id, send time, tokens and phase.
    expect(rows.map((r) => r.request_id)).toEqual(['r1', 'r2', 'r3', 'w1']);
    const measured = lines(path.join(dir, 'raw/requests.jsonl'));
    for (const r of rows) {
      const m = measured.find((x) => x.request_id === r.request_id)!;
      expect([r.sent_ns, r.output_tokens, r.prompt_tokens_server, r.phase]).toEqual([m.sent_ns, m.output_tokens, m.prompt_tokens_server ?? m.prompt_tokens_client, m.phase]);
      expect(r.first_token_ns as number).toBeGreaterThan(r.sent_ns as number);
    }
    const by = Object.fromEntries(rows.map((r) => [r.request_id, r]));
    // r2 (1000 prompt tokens) arrives during r1's first step and is prefilled in the next: its first token comes later.
    expect(by.r2!.first_token_ns as number).toBeGreaterThan(by.r1!.first_token_ns as number);
    // r3 is alone: a 200-token prefill of Llama-3-8B on an H100 takes a few ms, not tens.
    expect(((by.r3!.first_token_ns as number) - (by.r3!.sent_ns as number)) / 1e6).toBeGreaterThan(1);
    expect(((by.r3!.first_token_ns as number) - (by.r3!.sent_ns as number)) / 1e6).toBeLessThan(20);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.prediction.replayed).toBe(4);
    expect(manifest.prediction.skipped).toEqual({ failed: 1 });
    expect(manifest.prediction.servers[0].source).toBe('manifest config');
  });

  it('the comparison stages put measured beside predicted (golden) and summarize in one sentence', async () => {
    const dir = copyRun('stages');
    await run([dir]);
    const res = await runStages({ runDir: dir, stages: ['predict_summary'], log: () => {} });
    const get = async (name: string) => readParquet(res.find((r) => r.stage === name)!.output);
    const reqs = await get('predict_requests');
    const pct = await get('predict_percentiles');
    const sum = await get('predict_summary');
    for (const [name, rows] of [['predict_requests', reqs], ['predict_percentiles', pct], ['predict_summary', sum]] as const) {
      const g = checkGolden('predict-tiny', `${name}.json`, JSON.stringify(roundFloats(rows), null, 2) + '\n');
      expect(g.ok, g.message).toBe(true);
    }
    const r1 = reqs.find((r) => r.request_id === 'r1')!;
    expect(r1.ttft_ms_measured).toBe(10);
    expect(r1.tpot_ms_measured).toBe(7);
    expect(r1.rel_err_ttft).toBeCloseTo(((r1.ttft_ms_predicted as number) - 10) / 10, 12);
    // The summary reads the main phase only: 3 requests (r1, r2, r3), and its sentence carries the p50s.
    expect(sum).toHaveLength(1);
    expect(sum[0]!.n).toBe(3);
    expect(String(sum[0]!.sentence)).toMatch(/^The serving model predicts TTFT p50 [\d.]+ ms vs 10\.0 ms measured/);
  });

  it('a run without a prediction has no predict_summary rows', async () => {
    const res = await runStages({ runDir: inputDir('latency_summary'), outDir: path.join(tmp, 'nopred'), stages: ['predict_summary'], log: () => {} });
    expect(await readParquet(res.find((r) => r.stage === 'predict_summary')!.output)).toHaveLength(0);
  });

  it('flags override the manifest: a second prediction replaces the first', async () => {
    const dir = copyRun('override');
    await run([dir]);
    const before = lines(path.join(dir, 'raw/predicted/requests.jsonl'));
    await run([dir, '--gpu', 'A100-80GB']);
    const after = lines(path.join(dir, 'raw/predicted/requests.jsonl'));
    expect(after).toHaveLength(before.length);
    const ttft = (rows: Record<string, unknown>[]) => rows.map((r) => (r.first_token_ns as number) - (r.sent_ns as number));
    // An A100 is slower than an H100 on every request.
    ttft(after).forEach((t, i) => expect(t).toBeGreaterThan(ttft(before)[i]!));
  });
});

describe('sim predict: bad input names what is missing and the flag that supplies it', () => {
  const fail = async (argv: string[]) => {
    try {
      await run(argv);
    } catch (err) {
      expect(err).toBeInstanceOf(CliError);
      return err as CliError;
    }
    throw new Error('expected a CliError');
  };

  it('an external server without a model or GPU: --model and --gpu', async () => {
    const noModel = copyRun('external', (m) => (m.servers = [{ kind: 'external', url: 'http://127.0.0.1:8000' }]));
    const e1 = await fail([noModel]);
    expect(e1.message).toMatch(/which model served it.*--model NAME.*--model-config FILE/);
    expect(e1.exitCode).toBe(2);
    const e2 = await fail([noModel, '--model', 'Llama-3-8B']);
    expect(e2.message).toMatch(/which GPU served it.*--gpu NAME/);
    expect(await run([noModel, '--model', 'Llama-3-8B', '--gpu', 'H100'])).toBe(0);
  });

  it('a vLLM run: the model and flags from its command line, the GPU from --gpu', async () => {
    const dir = copyRun('vllm', (m) => (m.servers = [{ kind: 'vllm', name: '/v1/completions', url: 'http://127.0.0.1:8000', command: 'vllm serve meta-llama/Meta-Llama-3-8B --port 8000 --max-num-seqs 64 --gpu-memory-utilization 0.85' }]));
    expect((await fail([dir])).message).toMatch(/which GPU served it \(a vLLM launch.*--gpu NAME/);
    expect(await run([dir, '--gpu', 'H100'])).toBe(0);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(m.prediction.servers[0]).toMatchObject({ source: 'vllm launch flags', gpu_memory_utilization: 0.85, config: { model: 'Llama-3-8B', gpu: 'H100', maxNumSeqs: 64, maxNumBatchedTokens: 8192 } });
  });

  it('an unknown model lists the presets and --model-config', async () => {
    const dir = copyRun('unknown', (m) => (m.servers = [{ kind: 'external', url: 'http://127.0.0.1:8000' }]));
    const e = await fail([dir, '--model', 'Llama-9-1T', '--gpu', 'H100']);
    expect(e.message).toMatch(/unknown model: .*Llama-3-8B/);
    expect(e.details.join(' ')).toMatch(/--model-config/);
  });

  it('a run with no send times says so', async () => {
    const dir = copyRun('notimes');
    const f = path.join(dir, 'raw/requests.jsonl');
    fs.writeFileSync(f, lines(f).map((r) => JSON.stringify({ ...r, sent_ns: null, scheduled_ns: null })).join('\n') + '\n');
    expect((await fail([dir])).message).toMatch(/nothing to replay.*no send time/);
  });
});

describe('sim predict with LoRA adapters', () => {
  it('predicts which requests swap their adapter in; predict_lora_swaps compares them with the measured ones', async () => {
    // A "measured" run made by the offline engine itself (it reports adapter_resident like the simulated
    // /generate server): replayed on the same configuration, the prediction must agree request by request.
    const { run: simRun } = await import('../../simulator/cmd-sim-run.ts');
    const dir = path.join(tmp, 'lora');
    expect(await simRun(['--rate', '20', '--num-requests', '60', '--adapters', '6', '--gpu-loras', '2', '--max-loras', '2', '--input-len', 'uniform:50:300', '--output-len', 'uniform:5:40', '--seed', '3', '--out', dir])).toBe(0);
    const f = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(f, 'utf8'));
    m.servers = [{ kind: 'sim', name: 'default', config: { model: 'Llama-3-8B', gpu: 'H100', lora: { totalLoras: 6, gpuLoras: 2, maxLoras: 2, rank: 16 } } }];
    fs.writeFileSync(f, JSON.stringify(m));
    expect(await run([dir])).toBe(0);
    const res = await runStages({ runDir: dir, stages: ['predict_lora_swaps'], log: () => {} });
    const rows = await readParquet(res[0]!.output); // one per endpoint (sim run names them after the adapters)
    const sum = (k: string) => rows.reduce((a, r) => a + Number(r[k]), 0);
    expect(rows).toHaveLength(6);
    expect(sum('requests')).toBe(60);
    expect(sum('swaps_measured')).toBeGreaterThan(5); // 6 adapters over 2 slots: many misses
    for (const r of rows) {
      expect(r.swaps_predicted).toBe(r.swaps_measured);
      expect(r.agree).toBe(1);
    }
  });
});
