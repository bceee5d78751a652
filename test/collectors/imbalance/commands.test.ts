// generate, replay and warmup against the simulated server (4 GPUs) on port 0: the run records,
// the prompts file, the RESULTS SUMMARY table, and the bad inputs of the issue.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as generate } from '../../../collectors/imbalance/cmd-generate.ts';
import { run as replay } from '../../../collectors/imbalance/cmd-replay.ts';
import { run as warmup } from '../../../collectors/imbalance/cmd-warmup.ts';
import { readPrompts } from '../../../collectors/imbalance/prompts-file.ts';
import { summaryTable } from '../../../collectors/imbalance/load.ts';
import { CliError } from '../../../core/errors.ts';
import { simConfig, startSimServer } from '../../../simulator/server/server.ts';
import { captureOutput } from '../../helpers/capture.ts';

type Srv = Awaited<ReturnType<typeof startSimServer>>;
let srv: Srv;
let tmp: string;
const readJsonl = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
const runDirOf = (stderr: string) => /run (\S+)/.exec(stderr)![1]!;

beforeAll(async () => {
  // 4 GPUs behind round-robin, a short context so a big prompt is refused with 400
  srv = await startSimServer(simConfig({ preset: 'imbalance', port: 0, maxModelLen: 2048 }));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-imbalance-'));
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const common = () => ['--endpoint', `${srv.url}/v1/chat/completions`, '--data', tmp, '--max-tokens', '8', '--scrape-interval', '0.1'];

describe('imbalance generate', () => {
  it('records assigned and reported GPU, words, phase and concurrency; writes the prompts file; prints the table', async () => {
    const pf = path.join(tmp, 'gen.txt');
    const { value, stdout, stderr } = await captureOutput(() =>
      generate([...common(), '-n', '4', '-t', '1.5', '--max-concurrency', '16', '-m', '2', '-k', '3', '--prompts-file', pf, '--metrics-endpoint', `${srv.url}/metrics`]),
    );
    expect(value).toBe(0);
    const dir = runDirOf(stderr);
    const reqs = readJsonl(path.join(dir, 'raw', 'requests.jsonl')).sort((a, b) => a.extra.seq - b.extra.seq);
    const prompts = readPrompts(pf);
    expect(prompts.length).toBe(reqs.length);
    // warm-up: 2 loops of 81, 27, 9, 3 words on GPU0..3 in order; then concurrency² words
    expect(reqs.slice(0, 8).map((r) => [r.phase, r.extra.gpu_assigned, r.prompt_words])).toEqual(
      [81, 27, 9, 3, 81, 27, 9, 3].map((w, i) => ['warmup', i % 4, w]),
    );
    const main = reqs.filter((r) => r.phase === 'main');
    expect(main.length).toBeGreaterThan(10);
    for (const r of main) {
      expect(r.extra.concurrency_source).toBe('metrics');
      expect(r.prompt_words).toBe(Math.max(1, Math.min(r.extra.concurrency ** 2, 65536)));
    }
    // the simulated server reports the GPU it picked (x-gpu-id); under round-robin it is the assigned one
    expect(reqs.every((r) => Number.isInteger(r.gpu))).toBe(true);
    expect(reqs.filter((r) => r.gpu === r.extra.gpu_assigned).length).toBeGreaterThan(reqs.length * 0.9);
    // per-GPU concurrency over time, from the client and from the server
    const scrapes = readJsonl(path.join(dir, 'raw', 'scrapes.jsonl'));
    for (const target of ['client', 'server']) {
      expect(new Set(scrapes.filter((s) => s.target === target && s.metric === 'concurrency').map((s) => s.labels.gpu_id))).toEqual(new Set(['0', '1', '2', '3']));
    }
    // the old table, with this run's numbers
    const ok = reqs.filter((r) => r.status === 'ok');
    expect(stdout).toContain('Metric                                              Value\n');
    expect(stdout).toContain(`${'Total prompts sent'.padEnd(40)}${String(reqs.length).padStart(17)}\n`);
    expect(stdout).toContain(`${'Total prompts received'.padEnd(40)}${String(ok.length).padStart(17)}\n`);
    const words = reqs.reduce((a, r) => a + r.prompt_words, 0);
    expect(stdout).toContain(`${'Total tokens generated'.padEnd(40)}${String(words).padStart(17)}\n`);
    expect(stdout).toContain(`${'Total tokens received'.padEnd(40)}${String(ok.reduce((a, r) => a + r.output_tokens, 0)).padStart(17)}\n`);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).status).toBe('complete');
  });

  it('a prompt longer than the server context is recorded as its 400, not a crash; a dead metrics endpoint is counted', async () => {
    // c = own in-flight count (the endpoint is dead): up to 15² words; with -k 12 the warm-up's 12^4 words exceed 2048 tokens
    const { value, stdout, stderr } = await captureOutput(() =>
      generate([...common(), '-n', '4', '-t', '1', '--max-concurrency', '8', '-m', '1', '-k', '12', '--prompts-file', path.join(tmp, 'long.txt'), '--metrics-endpoint', 'http://127.0.0.1:9/metrics']),
    );
    expect(value).toBe(0);
    const reqs = readJsonl(path.join(runDirOf(stderr), 'raw', 'requests.jsonl'));
    const big = reqs.find((r) => r.prompt_words === 12 ** 4)!;
    expect(big).toMatchObject({ status: 'http_error', http_status: 400 });
    expect(big.error).toMatch(/context|maximum/i);
    const fallback = reqs.filter((r) => r.extra.concurrency_source === 'fallback').length;
    expect(fallback).toBeGreaterThan(0);
    expect(stderr.match(/metrics endpoint http:\/\/127\.0\.0\.1:9\/metrics: no answer/g)).toHaveLength(1);
    expect(stdout).toContain(`Metrics endpoint failures: ${fallback} `);
    expect(stdout).toMatch(/Refused by the server \(HTTP 400.*\): [1-9]/);
  });
});

describe('imbalance generate --concurrency-from client', () => {
  it('sizes prompts by the client\'s own counts and only samples the metrics endpoint', async () => {
    const { value, stderr } = await captureOutput(() =>
      generate([...common(), '-t', '0.8', '--max-concurrency', '8', '-m', '1', '--prompts-file', path.join(tmp, 'cf.txt'), '--metrics-endpoint', `${srv.url}/metrics`, '--concurrency-from', 'client']),
    );
    expect(value).toBe(0);
    const dir = runDirOf(stderr);
    const main = readJsonl(path.join(dir, 'raw', 'requests.jsonl')).filter((r) => r.phase === 'main');
    expect(main.length).toBeGreaterThan(0);
    for (const r of main) expect(r.extra.concurrency_source).toBe('client');
    expect(readJsonl(path.join(dir, 'raw', 'scrapes.jsonl')).some((x) => x.target === 'server')).toBe(true);
  });
});

describe('imbalance replay and warmup', () => {
  it('replay sends every prompt of the file once, exactly as written (escaped newlines), in order', async () => {
    const pf = path.join(tmp, 'replay.txt');
    fs.writeFileSync(pf, 'first prompt\nsecond\\nwith a newline\n\nthird one here\n');
    const { value, stdout, stderr } = await captureOutput(() => replay([...common(), '--prompts-file', pf, '--max-concurrency', '2']));
    expect(value).toBe(0);
    const reqs = readJsonl(path.join(runDirOf(stderr), 'raw', 'requests.jsonl'));
    expect(reqs.map((r) => r.prompt_words).sort()).toEqual([2, 3, 4]);
    expect(reqs.every((r) => r.dataset === 'replay' && r.status === 'ok')).toBe(true);
    expect(stdout).toContain(`${'Total prompts sent'.padEnd(40)}${'3'.padStart(17)}`);
  });

  it('replay --loop cycles the file until the duration', async () => {
    const pf = path.join(tmp, 'loop.txt');
    fs.writeFileSync(pf, 'a b\nc d e\n');
    const { value, stderr } = await captureOutput(() => replay([...common(), '--prompts-file', pf, '--loop', '-t', '0.8', '--max-concurrency', '2']));
    expect(value).toBe(0);
    expect(readJsonl(path.join(runDirOf(stderr), 'raw', 'requests.jsonl')).length).toBeGreaterThan(2);
  });

  it('warmup repeats k^n … k^1 for the whole duration', async () => {
    const { value, stderr } = await captureOutput(() => warmup([...common(), '-n', '4', '-k', '3', '-t', '0.8', '--max-concurrency', '4', '--prompts-file', path.join(tmp, 'w.txt')]));
    expect(value).toBe(0);
    const reqs = readJsonl(path.join(runDirOf(stderr), 'raw', 'requests.jsonl'));
    expect(reqs.length).toBeGreaterThan(8);
    for (const r of reqs) expect(r.prompt_words).toBe([81, 27, 9, 3][r.extra.gpu_assigned]);
  });
});

describe('bad input', () => {
  const usage = async (fn: () => Promise<number>, re: RegExp) => {
    const err = await captureOutput(fn).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(re);
  };
  it('-k 1, -n 0, a negative duration, a missing or empty prompts file', async () => {
    await usage(() => generate(['-k', '1']), /--exp-base: 1 is below the minimum 2/);
    await usage(() => warmup(['-n', '0']), /--num-gpus: 0 is below the minimum 1/);
    await usage(() => generate(['-t', '-5']), /--duration: -5 must be a positive number of seconds/);
    await usage(() => replay(['--prompts-file', path.join(tmp, 'nope.txt')]), /nope\.txt: no such file/);
    const empty = path.join(tmp, 'empty.txt');
    fs.writeFileSync(empty, '\n\n');
    const err = await captureOutput(() => replay(['--prompts-file', empty])).then(() => null, (e: unknown) => e);
    expect((err as CliError).message).toMatch(/empty\.txt: no prompt in the file/);
    await usage(() => generate(['--endpoint', 'localhost:8000']), /--endpoint 'localhost:8000'/);
  });

  it('the table keeps the old layout: 60-wide rules, metric in 40 columns, value right-aligned in 17', () => {
    const t = summaryTable({ prompts_sent: 1000, prompts_received: 950, prompts_failed: 50, tokens_generated: 125000, tokens_received: 95000, tokens_per_s_generated: 125000 / 3600, tokens_per_s_received: 95000 / 3600, elapsed_s: 3600, metrics_failures: 0, http_400: 0 });
    expect(t).toBe(
      [
        '============================================================',
        'RESULTS SUMMARY',
        '============================================================',
        'Metric                                              Value',
        '------------------------------------------------------------',
        'Total prompts sent                                   1000',
        'Total prompts received                                950',
        'Total prompts failed                                   50',
        'Total tokens generated                             125000',
        'Total tokens received                               95000',
        'Avg tokens/sec generated                            34.72',
        'Avg tokens/sec received                             26.39',
        'Elapsed time (seconds)                            3600.00',
        '============================================================',
      ].join('\n'),
    );
  });
});

describe('a stopped load', () => {
  it('SIGTERM: stops sending, writes every record, marks the run incomplete, prints the table', { timeout: 60_000 }, async () => {
    const { spawn } = await import('node:child_process');
    const root = path.resolve(__dirname, '../../..');
    const child = spawn(process.execPath, [path.join(root, 'bin/servelab.js'), 'imbalance', 'generate', ...common(), '-t', '60', '--max-concurrency', '8', '--grace', '0.2',
      '--prompts-file', path.join(tmp, 'term.txt')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // wait until requests are flowing, then stop it as a job scheduler would
    const prompts = path.join(tmp, 'term.txt');
    for (let i = 0; i < 200 && !(fs.existsSync(prompts) && fs.readFileSync(prompts, 'utf8').split('\n').length > 20); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, err).toBe(1);
    expect(err).toContain('stopping: no new requests');
    const dir = runDirOf(err);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).status).toBe('incomplete');
    const reqs = readJsonl(path.join(dir, 'raw', 'requests.jsonl'));
    expect(reqs.length).toBe(readPrompts(prompts).length); // every prompt sent has its record
    expect(out).toContain(`${'Total prompts sent'.padEnd(40)}${String(reqs.length).padStart(17)}`);
  });
});
