// `servelab bench`: vLLM `bench serve` compatible flags over the load engine. Writes a run
// (experiment `bench`), computes the figures in DuckDB, prints vLLM's summary and the error
// counts, writes --result-json, and exits 3 when a --threshold fails.
import fs from 'node:fs';
import path from 'node:path';
import { type CommandSpec, helpText, opt, parseArgs, type Parsed } from '../core/args.ts';
import { parseHeader, scrubCommand, splitUserinfo } from '../core/credentials.ts';
import { CliError, ExitCode, usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { message } from '../core/messages.ts';
import { createRun } from '../core/run.ts';
import { type Goodput, METRICS, type Metric, checkThresholds, computeBenchResult, finishRun, parseThreshold, firstModel, resultJson, RESULT_METRIC_KEY, RESULT_SCALAR_KEYS, runLoad } from './bench.ts';
import type { Endpoint } from './client.ts';
import { drainOnStopSignals, type LoadEngine, type WorkItem } from './engine.ts';
import { startProgress } from './progress.ts';
import { CLIENT_PROTOCOLS, PROTOCOL_PATH, type Protocol, protocolForPath } from './protocols.ts';
import { parseStages } from './schedule.ts';
import type { ScrapeTarget } from './scrape.ts';
import { printSummary } from './summary.ts';
import { loadPromptsFile } from './workloads/prompts-file.ts';
import { loadShareGpt, REGIMES, type Regime } from './workloads/sharegpt.ts';
import { syntheticPrompts } from './workloads/synthetic.ts';
import { assignAdapters, parseAdapterDist } from './workloads/adapters.ts';

/** p99 send lag past which the run says the client could not keep the schedule. */
export const SEND_LAG_WARN_MS = 10;

export const spec: CommandSpec = {
  name: 'bench',
  summary: 'benchmark a server with vLLM `bench serve` compatible flags; writes a run and a result JSON',
  description:
    'TTFT = first non-empty content − sent (vLLM counts the role-only chat chunk; first_chunk_ns keeps that time too). ' +
    'TPOT = (last − first token)/(output − 1); ITL = gaps between chunks; E2EL = last token − sent; client queue = sent − scheduled. ' +
    'Percentiles: linear interpolation (DuckDB quantile_cont). Output tokens from server usage, else the LLaMA tokenizer (no BOS).',
  options: {
    'base-url': { type: 'string', help: 'server base URL', default: 'http://127.0.0.1:8000' },
    endpoint: { type: 'string', help: 'request path (picks the protocol)', default: '/v1/completions' },
    backend: { type: 'string', help: 'protocol, when the path does not say', choices: CLIENT_PROTOCOLS },
    model: { type: 'string', help: 'model name (default: the first of GET /v1/models)' },
    mix: { type: 'list', help: 'mixed load: NAME=URL[PATH]@WEIGHT, repeatable (e.g. Flash=http://h:8081/completion@0.7)', metavar: 'SPEC' },
    'dataset-name': { type: 'string', help: 'workload', choices: ['sharegpt', 'random', 'file'], default: 'random' },
    'dataset-path': { type: 'string', help: 'ShareGPT JSON, or a prompts file (one per line, or JSONL with "prompt")' },
    'random-input-len': { type: 'integer', help: 'random: prompt tokens', default: 1024, min: 1 },
    'random-output-len': { type: 'integer', help: 'random: output tokens (sent as max_tokens with ignore_eos)', default: 128, min: 1 },
    'random-range-ratio': { type: 'number', help: 'random: lengths uniform in [len·(1−r), len·(1+r)], r below 1', default: 0, min: 0, max: 0.999 },
    prefix: { type: 'string', help: 'random: text put before every prompt' },
    'sharegpt-output-len': { type: 'integer', help: 'sharegpt: fixed output length (else the reference completion length)', min: 1 },
    'prompt-regime': { type: 'string', help: 'sharegpt: keep prompts by client tokens (short 256–1024, long 2048–4096)', choices: Object.keys(REGIMES) },
    'output-len': { type: 'integer', help: 'file: fixed output length (max_tokens with ignore_eos)', min: 1 },
    lenient: { type: 'boolean', help: 'skip malformed dataset entries (reported) instead of failing' },
    'num-prompts': { type: 'integer', help: 'requests in the main phase', default: 1000, min: 1, max: 100_000_000 },
    'request-rate': { type: 'number', help: 'arrivals per second (inf: all at once)', default: Infinity },
    burstiness: { type: 'number', help: 'gamma shape: 1 Poisson, <1 burstier, inf constant', default: 1 },
    'max-concurrency': { type: 'integer', help: 'cap on requests in flight (client queue time recorded)', min: 1 },
    'ramp-up': { type: 'string', help: 'rate stages before the steady rate, DUR:FROM-TO,… (e.g. 10:0-50)', metavar: 'STAGES' },
    users: { type: 'integer', help: 'closed loop: N users, each sends its next request when the last one ends', min: 1 },
    'think-time': { type: 'number', help: 'closed loop: ms a user waits between requests', default: 0 },
    'ramp-up-seconds': { type: 'number', help: 'closed loop: users start evenly over this many seconds', default: 0, min: 0 },
    duration: { type: 'number', help: 'run this many seconds instead of a request count', metavar: 'S', above: 0 },
    'num-warmups': { type: 'integer', help: 'warm-up requests before the main phase (phase=warmup)', default: 0, min: 0 },
    warmup: { type: 'integer', help: 'same as --num-warmups', min: 0 },
    timeout: { type: 'number', help: 'per-request timeout in seconds', default: 600, above: 0 },
    grace: { type: 'number', help: 'seconds a stop (Ctrl-C) waits for requests in flight before cancelling', default: 5, min: 0 },
    'percentile-metrics': { type: 'string', help: `metrics reported (${METRICS.join(',')})`, default: 'ttft,tpot,itl' },
    'metric-percentiles': { type: 'string', help: 'percentiles reported', default: '99' },
    goodput: { type: 'list', variadic: true, help: 'SLOs in ms: ttft:MS tpot:MS e2el:MS', metavar: 'KEY:MS' },
    threshold: { type: 'list', help: 'k6-style check on a result key, repeatable (e.g. p99_ttft_ms<500); a failure exits 3', metavar: 'EXPR' },
    'api-key': { type: 'string', help: 'sent as Authorization: Bearer KEY (default: $OPENAI_API_KEY); never written to the run', metavar: 'KEY' },
    header: { type: 'list', help: "extra request header 'Name: value', repeatable; values are never written to the run", metavar: 'HEADER' },
    'result-json': { type: 'string', help: 'also write the result JSON here', metavar: 'FILE' },
    label: { type: 'string', help: 'label in the result JSON' },
    seed: { type: 'integer', help: 'seed for arrivals, sampling and endpoint choice', default: 0 },
    stream: { type: 'boolean', help: 'stream responses (--no-stream for whole JSON bodies) [default: on; off for /generate, which answers one JSON body]' },
    'total-loras': { type: 'integer', help: 'spread requests over N LoRA adapters (/generate model_id i, OpenAI model lora-i)', min: 1, metavar: 'N' },
    'adapter-dist': { type: 'string', help: 'with --total-loras: uniform or zipf:S', default: 'uniform', metavar: 'DIST' },
    'ignore-eos': { type: 'boolean', help: 'send ignore_eos so outputs have the requested length' },
    'save-chunks': { type: 'boolean', help: 'write per-chunk arrival times (always on when itl is reported)' },
    scrape: { type: 'list', help: 'metrics URLs to sample during the run (Prometheus text, or /metrics?gpu_id=N JSON)', metavar: 'URL' },
    'scrape-interval': { type: 'number', help: 'seconds between scrapes (at least 0.05)', default: 1, min: 0.05 },
    connections: { type: 'integer', help: 'HTTP connections per origin (default unlimited)', min: 1 },
    shard: { type: 'integer', help: 'shard id when several processes load one run (give them one --run-id)', default: 0, min: 0 },
    experiment: { type: 'string', help: 'experiment name of the run', default: 'bench' },
    'run-id': { type: 'string', help: 'run id (default: a new timestamped one)' },
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data' },
  },
  examples: [
    'servelab bench --base-url http://127.0.0.1:8000 --dataset-name random --random-input-len 512 --random-output-len 64 --num-prompts 200 --request-rate 10',
    'servelab bench --endpoint /v1/chat/completions --dataset-name sharegpt --dataset-path ShareGPT_V3_unfiltered_cleaned_split.json --max-concurrency 32 --goodput ttft:500 tpot:50',
    'servelab bench --mix Thinker=http://127.0.0.1:8080/completion@0.3 --mix Flash=http://127.0.0.1:8081/completion@0.7 --users 20 --duration 120 --ramp-up-seconds 10',
    'servelab bench --request-rate 20 --duration 60 --threshold "p99_ttft_ms<500" --result-json result.json',
    'servelab bench --endpoint /generate --total-loras 128 --dataset-name random --num-prompts 200 --request-rate 2',
  ],
};

/**
 * A manifest `servers` entry: the built-in simulated server answers GET /sim/config with its
 * exact config (servelab sim predict replays the run with it); any other server is external.
 */
async function serverEntry(e: Endpoint): Promise<Record<string, unknown>> {
  try {
    const r = await fetch(`${e.baseUrl.replace(/\/+$/, '')}/sim/config`, { headers: e.headers, signal: AbortSignal.timeout(2000) });
    const body = r.ok ? ((await r.json()) as Record<string, unknown>) : null;
    if (body && typeof body.model === 'string' && typeof body.gpu === 'string') return { kind: 'sim', name: e.name, url: e.baseUrl, config: body };
  } catch {
    // not the simulated server (no such route, not JSON, or no answer in 2 s)
  }
  return { kind: 'external', url: e.baseUrl };
}

function endpointsOf(p: Parsed): Endpoint[] {
  const mix = opt.list(p, 'mix');
  const protocolOf = (pathName: string): Protocol => {
    const b = opt.str(p, 'backend') as Protocol | undefined;
    const pr = b ?? protocolForPath(pathName);
    if (!pr) throw usageError(`--endpoint ${pathName}: unknown path; give --backend (${CLIENT_PROTOCOLS.join('|')})`);
    return pr;
  };
  const stream = streamOf(p);
  const headers = requestHeaders(p);
  // user:password in a URL becomes a Basic Authorization header and leaves the URL (nothing stores it)
  const endpoint = (e: Endpoint): Endpoint => {
    const { url, authorization } = splitUserinfo(e.baseUrl);
    const h = { ...(authorization && !hasHeader(headers, 'authorization') ? { authorization } : {}), ...headers };
    return { ...e, baseUrl: url, ...(Object.keys(h).length ? { headers: h } : {}) };
  };
  if (mix.length === 0) {
    const pathName = opt.str(p, 'endpoint')!;
    return [endpoint({ name: pathName, baseUrl: opt.str(p, 'base-url')!, path: pathName, protocol: protocolOf(pathName), stream })];
  }
  return mix.map((m) => {
    const r = /^([^=]+)=(https?:\/\/[^/]+)(\/[^@]*)?(?:@([\d.]+))?$/.exec(m);
    if (!r) throw usageError(`--mix '${scrubCommand(m)}': expected NAME=URL[PATH]@WEIGHT, e.g. Flash=http://127.0.0.1:8081/completion@0.7`);
    const pathName = r[3] ?? opt.str(p, 'endpoint')!;
    const protocol = protocolOf(pathName);
    return endpoint({ name: r[1]!, baseUrl: r[2]!, path: pathName || PROTOCOL_PATH[protocol], protocol, weight: r[4] ? Number(r[4]) : 1, stream });
  });
}

/** --stream as given; else on, except for /generate (its server answers one JSON body, never SSE). */
function streamOf(p: Parsed): boolean {
  if (p.opts.stream !== undefined) return opt.bool(p, 'stream');
  const pathName = opt.str(p, 'endpoint')!;
  const proto = (opt.str(p, 'backend') as Protocol | undefined) ?? protocolForPath(pathName);
  return opt.list(p, 'mix').length === 0 && proto === 'generate' ? false : true;
}

const hasHeader = (h: Record<string, string>, name: string) => Object.keys(h).some((k) => k.toLowerCase() === name);

/** --header 'Name: value' (repeatable) and --api-key / $OPENAI_API_KEY as a Bearer token, as vLLM's bench sends it. */
function requestHeaders(p: Parsed): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of opt.list(p, 'header')) {
    const kv = parseHeader(h);
    if (!kv) throw usageError(`--header '${h.split(':')[0]}': expected 'Name: value', e.g. --header 'X-Request-Source: bench'`);
    out[kv[0]] = kv[1];
  }
  const key = opt.str(p, 'api-key') ?? process.env.OPENAI_API_KEY;
  if (key && !hasHeader(out, 'authorization')) out.authorization = `Bearer ${key}`;
  return out;
}

function workload(p: Parsed, warn: (m: string) => void): WorkItem[] {
  const name = opt.str(p, 'dataset-name')!;
  const num = opt.num(p, 'num-prompts')!;
  const seed = opt.num(p, 'seed')!;
  const file = opt.str(p, 'dataset-path');
  if (name !== 'random' && !file) throw usageError(`--dataset-name ${name} needs --dataset-path`);
  if (file && !fs.existsSync(file)) throw usageError(`--dataset-path ${file}: no such file`);
  const ignoreEos = opt.bool(p, 'ignore-eos');
  switch (name) {
    case 'sharegpt':
      return loadShareGpt({ path: file!, numPrompts: num, seed, outputLen: opt.num(p, 'sharegpt-output-len') ?? null, regime: (opt.str(p, 'prompt-regime') as Regime) ?? null, lenient: opt.bool(p, 'lenient'), warn });
    case 'file':
      return loadPromptsFile({ path: file!, maxTokens: opt.num(p, 'output-len') ?? null, ignoreEos: ignoreEos || opt.num(p, 'output-len') !== undefined, lenient: opt.bool(p, 'lenient'), warn });
    default:
      return syntheticPrompts({
        num: Math.min(num, 10_000), seed, inputLen: opt.num(p, 'random-input-len')!, outputLen: opt.num(p, 'random-output-len')!,
        rangeRatio: opt.num(p, 'random-range-ratio'), prefix: opt.str(p, 'prefix'), ignoreEos: true,
      });
  }
}

function goodputOf(p: Parsed): Goodput | undefined {
  const items = opt.list(p, 'goodput');
  if (!items.length) return undefined;
  const g: Goodput = {};
  for (const it of items) {
    const m = /^(ttft|tpot|e2el):([\d.]+)$/.exec(it);
    if (!m) throw usageError(`--goodput '${it}': expected ttft:MS, tpot:MS or e2el:MS`);
    g[m[1] as keyof Goodput] = Number(m[2]);
  }
  return g;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(spec, argv);
  if (p.help) {
    process.stdout.write(helpText(spec) + '\n');
    return ExitCode.ok;
  }
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const metrics = opt.str(p, 'percentile-metrics')!.split(',').map((s) => s.trim()).filter(Boolean) as Metric[];
  for (const m of metrics) if (!(METRICS as readonly string[]).includes(m)) throw usageError(`--percentile-metrics: '${m}' is not one of ${METRICS.join(', ')}`);
  const percentiles = opt.str(p, 'metric-percentiles')!.split(',').map(Number);
  if (percentiles.some((x) => !(x > 0 && x < 100))) throw usageError('--metric-percentiles: values must be between 0 and 100, e.g. 50,90,99');
  const goodput = goodputOf(p);
  const thresholds = opt.list(p, 'threshold');
  for (const t of thresholds) checkThresholdKey(parseThreshold(t).key, t);
  const rate = opt.num(p, 'request-rate')!;
  if (!(rate > 0)) throw usageError(`--request-rate: ${rate} must be greater than 0 (inf sends everything at once)`);
  const burstiness = opt.num(p, 'burstiness');
  if (burstiness !== undefined && !(burstiness > 0)) throw usageError(`--burstiness: ${burstiness} must be greater than 0 (1 = Poisson, inf = constant)`);
  const endpoints = endpointsOf(p);
  const maxConcurrency = opt.num(p, 'max-concurrency') ?? null;
  if (maxConcurrency && !metrics.includes('client_queue_time')) metrics.push('client_queue_time', 'e2el_including_client_queue');
  let model = opt.str(p, 'model') ?? null;
  if (!model && endpoints.some((e) => e.protocol.startsWith('openai'))) model = await firstModel(endpoints[0]!.baseUrl, undefined, endpoints[0]!.headers);
  for (const e of endpoints) e.model = model;
  const loras = opt.num(p, 'total-loras');
  const items = loras ? assignAdapters(workload(p, warn), loras, parseAdapterDist(opt.str(p, 'adapter-dist')!), opt.num(p, 'seed')!, endpoints[0]!.protocol) : workload(p, warn);
  if (opt.bool(p, 'ignore-eos')) for (const it of items) it.ignoreEos = true;
  const stages = opt.str(p, 'ramp-up') ? parseStages(opt.str(p, 'ramp-up')!) : undefined;
  const users = opt.num(p, 'users');
  const durationS = opt.num(p, 'duration');
  const numPrompts = durationS === undefined || argv.some((a) => a === '--num-prompts' || a.startsWith('--num-prompts=')) ? opt.num(p, 'num-prompts')! : undefined;
  const config = { ...p.opts, model };
  const shard = opt.num(p, 'shard')!;
  const run = createRun({ experiment: opt.str(p, 'experiment')!, runId: opt.str(p, 'run-id'), dataDir: opt.str(p, 'data'), config, shard, resume: shard > 0, servers: await Promise.all(endpoints.map(serverEntry)) });
  process.stderr.write(`run ${run.dir}\n`);

  let engine: LoadEngine | undefined;
  const signals = drainOnStopSignals(opt.num(p, 'grace')!);
  const prog = startProgress({ activeUsers: () => engine?.activeRequests ?? 0, durationS, totalRequests: numPrompts });
  let outcome;
  try {
    outcome = await runLoad(
      run,
      {
        endpoints, items, requestRate: opt.num(p, 'request-rate'), burstiness: opt.num(p, 'burstiness'), maxConcurrency, stages,
        closed: users ? { users, thinkTimeMs: opt.num(p, 'think-time'), rampUpS: opt.num(p, 'ramp-up-seconds') } : undefined,
        numPrompts, durationS, warmups: opt.num(p, 'warmup') ?? opt.num(p, 'num-warmups'), timeoutMs: opt.num(p, 'timeout')! * 1000,
        graceMs: opt.num(p, 'grace')! * 1000, seed: opt.num(p, 'seed'), stream: endpoints[0]!.stream ?? true,
        saveChunks: opt.bool(p, 'save-chunks') || metrics.includes('itl'), metrics, percentiles, goodput, connections: opt.num(p, 'connections'),
        scrapeIntervalMs: opt.num(p, 'scrape-interval')! * 1000,
        scrape: opt.list(p, 'scrape').map((url): ScrapeTarget => ({ url, kind: /[?&]gpu_id=/.test(url) ? 'gpu-json' : 'prometheus' })),
      },
      { onRecord: (r) => prog.record(r), warn, onEngine: (e) => signals.attach((engine = e)) },
    );
    prog.stop();
    finishRun(run, outcome);
  } catch (e) {
    prog.stop();
    run.finish('failed', (e as Error).message);
    throw e instanceof CliError ? e : new CliError(`bench: ${(e as Error).message}`);
  } finally {
    signals.release();
  }
  const figures = await computeBenchResult(run.dir, { metrics, percentiles, goodput });
  const proto = endpoints[0]!.protocol;
  const result = resultJson(
    { endpointType: proto === 'openai-completions' ? 'openai' : proto, label: opt.str(p, 'label'), modelId: model, numPrompts: numPrompts ?? outcome.sent, requestRate: opt.num(p, 'request-rate')!, burstiness: opt.num(p, 'burstiness')!, maxConcurrency },
    figures,
    { metrics, percentiles, goodput },
    { run_dir: run.dir, run_status: run.manifest.status },
  );
  const json = JSON.stringify(result, null, 2) + '\n';
  writeFileAtomic(path.join(run.dir, 'derived', 'bench_result.json'), json);
  const out = opt.str(p, 'result-json');
  if (out) writeFileAtomic(out, json);
  printSummary(result, metrics, percentiles);
  const checks = checkThresholds(result, thresholds);
  for (const c of checks) process.stdout.write(`threshold ${c.text}\n`);
  const lag = result.p99_send_lag_ms;
  if (!maxConcurrency && typeof lag === 'number' && lag > SEND_LAG_WARN_MS && Number.isFinite(opt.num(p, 'request-rate')!)) warn(message.clientBehind(lag));
  if (outcome.stopped) process.stderr.write(`${message.runIncomplete(run.id)}\n`);
  if (checks.some((c) => !c.ok)) return ExitCode.threshold;
  if (outcome.sent > 0 && result.completed === 0) {
    process.stderr.write(`servelab: no request succeeded (${result.failed} failed); see the errors above and ${run.rawFile('requests')}\n`);
    return ExitCode.failure;
  }
  return outcome.stopped ? ExitCode.failure : ExitCode.ok;
}

/** Rejects a threshold on a key the result can never have, before any load is sent. */
function checkThresholdKey(key: string, text: string): void {
  if (RESULT_METRIC_KEY.test(key) || RESULT_SCALAR_KEYS.includes(key)) return;
  throw usageError(`--threshold '${text}': ${key} is not a key of the result`, [
    `keys: ${RESULT_SCALAR_KEYS.join(' ')}, and {mean|median|std|pNN}_{ttft|tpot|itl|e2el}_ms`,
  ]);
}
