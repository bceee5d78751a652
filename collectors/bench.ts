// Benchmark one server (or a weighted mix) into a run, then compute vLLM's result figures
// with DuckDB over that run's records (analysis/queries/bench_result.sql). This is the API pipelines
// call; `servelab bench` is a flag layer over it.
import fs from 'node:fs';
import { request, type Dispatcher } from 'undici';
import { openCatalog, queryRows } from '../analysis/catalog.ts';
import { runClock, type Clock } from '../core/clock.ts';
import { CliError } from '../core/errors.ts';
import type { RunHandle } from '../core/run.ts';
import type { RequestRecord } from '../core/schema.ts';
import { type Endpoint, makeAgent } from './client.ts';
import { LoadEngine, type LoadMode, type LoadOutcome, type WorkItem } from './engine.ts';
import { type Protocol, PROTOCOL_PATH, protocolForPath } from './protocols.ts';
import { buildSchedule, type RateStage } from './schedule.ts';
import { seededRng } from './rng.ts';
import { startScraper, type ScrapeTarget } from './scrape.ts';
import { countTokens } from './tokenizer.ts';
import { loadPromptsFile } from './workloads/prompts-file.ts';
import { loadShareGpt } from './workloads/sharegpt.ts';

export const METRICS = ['ttft', 'tpot', 'itl', 'e2el', 'client_queue_time', 'e2el_including_client_queue'] as const;
export type Metric = (typeof METRICS)[number];

export interface Goodput {
  ttft?: number;
  tpot?: number;
  e2el?: number;
}

export interface BenchOptions {
  endpoints: Endpoint[];
  items: WorkItem[];
  /** req/s; Infinity sends all at once (vLLM default). */
  requestRate?: number;
  burstiness?: number;
  maxConcurrency?: number | null;
  /** Open-loop ramp stages before the steady rate. */
  stages?: RateStage[];
  /** Closed loop instead of a rate: N users with think time. */
  closed?: { users: number; thinkTimeMs?: number; rampUpS?: number };
  /** Requests in the main phase (default: the number of items). */
  numPrompts?: number;
  /** Run for this long instead of a fixed count (prompts cycle). */
  durationS?: number;
  warmups?: number;
  timeoutMs?: number;
  graceMs?: number;
  seed?: number;
  stream?: boolean;
  saveChunks?: boolean;
  metrics?: Metric[];
  percentiles?: number[];
  goodput?: Goodput;
  scrape?: ScrapeTarget[];
  scrapeIntervalMs?: number;
  /** Count output tokens with the client tokenizer (default true). */
  countOutputTokens?: boolean;
  connections?: number | null;
}

export interface BenchEffects {
  clock?: Clock;
  dispatcher?: Dispatcher;
  onRecord?: (r: Omit<RequestRecord, 'run' | 'shard'>) => void;
  warn?: (m: string) => void;
  /** Receives the engine so the caller can stop it (Ctrl-C). */
  onEngine?: (e: LoadEngine) => void;
  /** Every non-streamed 2xx JSON body. */
  onBody?: (body: Record<string, unknown>) => void;
}

/** The first model /v1/models lists, as vLLM's client picks it. */
export async function firstModel(baseUrl: string, dispatcher?: Dispatcher, headers?: Record<string, string>): Promise<string> {
  const url = baseUrl.replace(/\/+$/, '') + '/v1/models';
  try {
    const res = await request(url, { dispatcher, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = (await res.body.json()) as { data?: { id?: string }[] };
    const id = body.data?.[0]?.id;
    if (res.statusCode === 200 && id) return id;
    throw new Error(`HTTP ${res.statusCode}, no model listed`);
  } catch (e) {
    throw new CliError(`${url}: cannot list models (${(e as Error).message}); pass --model`);
  }
}

export function loadMode(o: BenchOptions, rngSeed: number): LoadMode {
  const count = o.durationS === undefined ? (o.numPrompts ?? o.items.length) : o.numPrompts;
  if (o.closed) return { kind: 'closed', users: o.closed.users, thinkTimeMs: o.closed.thinkTimeMs, rampUpS: o.closed.rampUpS, durationS: o.durationS, count };
  const rate = o.requestRate ?? Infinity;
  if (rate === Infinity && !o.stages?.length && count === undefined) {
    // as fast as possible for a duration: that is a closed loop of max-concurrency users
    if (!o.maxConcurrency) throw new CliError('an infinite --request-rate with --duration needs --max-concurrency (or give --num-prompts)', 2);
    return { kind: 'closed', users: o.maxConcurrency, durationS: o.durationS };
  }
  const schedule = buildSchedule({ rate, burstiness: o.burstiness ?? 1, stages: o.stages, count, durationS: o.durationS }, seededRng(rngSeed));
  return { kind: 'open', schedule, maxConcurrency: o.maxConcurrency ?? null };
}

/** Loads the server(s) and writes every request into the run. */
export async function runLoad(run: RunHandle, o: BenchOptions, fx: BenchEffects = {}): Promise<LoadOutcome> {
  const clock = fx.clock ?? runClock(run.manifest.started_unix_ms);
  const ownAgent = fx.dispatcher ? null : makeAgent({ connections: o.connections });
  const dispatcher = fx.dispatcher ?? ownAgent!;
  const engine = new LoadEngine(
    run,
    {
      endpoints: o.endpoints,
      items: o.items,
      // shards of one run draw different arrival times (same prompts), or their bursts would align
      mode: loadMode(o, (o.seed ?? 0) + run.shard * 1_000_003),
      stream: o.stream ?? true,
      warmups: o.warmups,
      timeoutMs: o.timeoutMs,
      graceMs: o.graceMs,
      seed: o.seed,
      saveChunks: o.saveChunks,
      countTokens: o.countOutputTokens === false ? null : countTokens,
    },
    { clock, dispatcher, onRecord: fx.onRecord, onBody: fx.onBody },
  );
  fx.onEngine?.(engine);
  const scraper = o.scrape?.length ? startScraper(run, o.scrape, { clock, dispatcher, warn: fx.warn, intervalMs: o.scrapeIntervalMs }) : null;
  try {
    return await engine.runLoad();
  } finally {
    await scraper?.stop();
    run.flush();
    await ownAgent?.close();
  }
}

/** Records the run's final status: a stopped load (Ctrl-C) leaves it incomplete. */
export function finishRun(run: RunHandle, outcome: LoadOutcome): void {
  run.finish(outcome.stopped ? 'incomplete' : 'complete', outcome.stopped ? 'stopped by a signal (Ctrl-C or SIGTERM) before the load ended' : undefined);
}

export interface ResultParams {
  metrics: Metric[];
  percentiles: number[];
  goodput?: Goodput;
}

/** Runs analysis/queries/bench_result.sql over one run folder; returns key → value. */
export async function computeBenchResult(runDir: string, p: ResultParams): Promise<Record<string, number | null>> {
  const sql = fs.readFileSync(new URL('../analysis/queries/bench_result.sql', import.meta.url), 'utf8');
  const cat = await openCatalog({ runDirs: [runDir] });
  try {
    const list = (xs: readonly (string | number)[]) => `[${xs.map((x) => (typeof x === 'number' ? `${x}::DOUBLE` : `'${x}'`)).join(', ')}]`;
    const num = (x: number | undefined) => (x === undefined ? 'NULL::DOUBLE' : `${x}::DOUBLE`);
    await cat.conn.run(
      `CREATE TEMP TABLE bench_params AS SELECT ${list(p.metrics)}::VARCHAR[] AS metrics, ${list(p.percentiles)}::DOUBLE[] AS percentiles, ` +
        `${num(p.goodput?.ttft)} AS goodput_ttft_ms, ${num(p.goodput?.tpot)} AS goodput_tpot_ms, ${num(p.goodput?.e2el)} AS goodput_e2el_ms`,
    );
    await cat.conn.run(`SET VARIABLE bench_quantiles = ${list(p.percentiles.map((x) => x / 100))}::DOUBLE[]`);
    const rows = await queryRows(cat.conn, sql);
    return Object.fromEntries(rows.map((r) => [r.key as string, r.value as number | null]));
  } finally {
    cat.close();
  }
}

export interface ResultSetup {
  endpointType: string;
  backend?: string;
  label?: string | null;
  modelId: string | null;
  tokenizerId?: string;
  numPrompts: number;
  requestRate: number;
  burstiness: number;
  maxConcurrency: number | null;
}

const pctKey = (p: number) => `p${p}`;

/** The result's scalar figures (vLLM's keys) in vLLM's order; thresholds may name any of them. */
const FIGURE_KEYS = ['duration', 'completed', 'failed', 'total_input_tokens', 'total_output_tokens', 'request_throughput', 'request_goodput', 'output_throughput', 'total_token_throughput', 'max_concurrent_requests'] as const;
/** Every scalar key of the result JSON a threshold can name. */
/** Server-reported TTFT figures, present only when the protocol reports one (/generate `ttft`). */
export const SERVER_TTFT_KEYS = ['mean_server_ttft_ms', 'median_server_ttft_ms', 'p99_server_ttft_ms'] as const;
export const RESULT_SCALAR_KEYS: readonly string[] = [...FIGURE_KEYS, 'token_mismatches', 'p50_send_lag_ms', 'p99_send_lag_ms', ...SERVER_TTFT_KEYS];
/** Keys of the per-metric figures: {mean|median|std|pNN}_{metric}_ms. */
export const RESULT_METRIC_KEY = new RegExp(`^(mean|median|std|p\\d+(\\.\\d+)?)_(${METRICS.join('|')})_ms$`);

/** The result JSON in vLLM's key order, plus servelab's own keys (run_dir, errors). */
export function resultJson(setup: ResultSetup, figures: Record<string, number | null>, p: ResultParams, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const d = new Date();
  const z = (n: number) => String(n).padStart(2, '0');
  const out: Record<string, unknown> = {
    date: `${d.getFullYear()}${z(d.getMonth() + 1)}${z(d.getDate())}-${z(d.getHours())}${z(d.getMinutes())}${z(d.getSeconds())}`,
    endpoint_type: setup.endpointType,
    backend: setup.backend ?? setup.endpointType,
    label: setup.label ?? null,
    model_id: setup.modelId,
    tokenizer_id: setup.tokenizerId ?? 'hf-internal-testing/llama-tokenizer',
    num_prompts: setup.numPrompts,
    request_rate: Number.isFinite(setup.requestRate) ? setup.requestRate : 'inf',
    burstiness: setup.burstiness,
    max_concurrency: setup.maxConcurrency,
  };
  for (const k of FIGURE_KEYS) {
    out[k] = figures[k] ?? null;
  }
  for (const m of p.metrics) {
    for (const k of [`mean_${m}_ms`, `median_${m}_ms`, `std_${m}_ms`, ...p.percentiles.map((q) => `${pctKey(q)}_${m}_ms`)]) out[k] = figures[k] ?? null;
  }
  out.errors = Object.fromEntries(Object.entries(figures).filter(([k]) => k.startsWith('errors.')).map(([k, v]) => [k.slice(7), v]));
  out.token_mismatches = figures.token_mismatches ?? 0;
  out.p50_send_lag_ms = figures.p50_send_lag_ms ?? null;
  out.p99_send_lag_ms = figures.p99_send_lag_ms ?? null;
  for (const k of SERVER_TTFT_KEYS) if (figures[k] != null) out[k] = figures[k];
  return { ...out, ...extra };
}

export interface Threshold {
  text: string;
  key: string;
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  limit: number;
}

/** Parses a k6-style threshold `p99_ttft_ms<500` (usage error when malformed). */
export function parseThreshold(t: string): Threshold {
  const m = /^\s*([\w.]+)\s*(<=|>=|==|!=|<|>)\s*(-?[\d.]+(?:e-?\d+)?)\s*$/.exec(t);
  if (!m) throw new CliError(`--threshold '${t}': expected KEY<VALUE (operators < <= > >= == !=), e.g. p99_ttft_ms<500`, 2);
  return { text: t, key: m[1]!, op: m[2] as Threshold['op'], limit: Number(m[3]) };
}

/** Checks thresholds against the result JSON; a missing key is a usage error naming the keys. */
export function checkThresholds(result: Record<string, unknown>, thresholds: string[]): { text: string; ok: boolean }[] {
  return thresholds.map((t) => {
    const { key, op, limit } = parseThreshold(t);
    const value = result[key];
    if (typeof value !== 'number') {
      const keys = Object.keys(result).filter((k) => typeof result[k] === 'number');
      throw new CliError(`--threshold '${t}': ${key} is not a numeric key of the result`, 2, [`keys: ${keys.join(' ')}`]);
    }
    const ok = { '<': value < limit, '<=': value <= limit, '>': value > limit, '>=': value >= limit, '==': value === limit, '!=': value !== limit }[op];
    return { text: `${key} ${op} ${limit}: ${Number(value.toPrecision(6))} ${ok ? 'PASS' : 'FAIL'}`, ok };
  });
}

export type DatasetKind = 'sharegpt' | 'file';

/** Tags that go into every record of a dataset run (the MoE pipeline's dataset/GPU labels). */
export interface RecordTags {
  dataset?: string;
  /** Endpoint name in the records (default: the dataset, else the path); the MoE pipeline uses the backend. */
  endpoint?: string;
  gpu?: number;
  adapter?: string;
  /** Free-form labels kept in the record's `extra` column. */
  extra?: Record<string, unknown>;
}

export interface BenchmarkFileOptions {
  /** Server base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  /** Path (protocol inferred): /v1/completions (default), /v1/chat/completions, /completion, /generate */
  endpointPath?: string;
  model?: string | null;
  datasetPath: string;
  datasetKind?: DatasetKind;
  numPrompts?: number;
  outputLen?: number | null;
  requestRate?: number;
  burstiness?: number;
  maxConcurrency?: number | null;
  seed?: number;
  timeoutMs?: number;
  tags?: RecordTags;
  saveChunks?: boolean;
  /** Stream responses (default true). */
  stream?: boolean;
  scrape?: ScrapeTarget[];
}

/**
 * Benchmarks one dataset file against a URL, writing into an existing run (the MoE
 * pipeline calls this once per dataset). Returns the load outcome; compute figures with
 * computeBenchResult(run.dir, …) once all datasets are in.
 */
export async function benchmarkFile(run: RunHandle, o: BenchmarkFileOptions, fx: BenchEffects = {}): Promise<LoadOutcome> {
  const path = o.endpointPath ?? '/v1/completions';
  const protocol: Protocol = protocolForPath(path) ?? 'openai-completions';
  const tags = { ...(o.tags?.gpu !== undefined ? { gpu: o.tags.gpu } : {}), ...(o.tags?.extra ? { extra: o.tags.extra } : {}) };
  const items =
    (o.datasetKind ?? 'sharegpt') === 'sharegpt'
      ? loadShareGpt({ path: o.datasetPath, numPrompts: o.numPrompts ?? 1000, seed: o.seed, outputLen: o.outputLen, tags })
      : loadPromptsFile({ path: o.datasetPath, maxTokens: o.outputLen, ignoreEos: o.outputLen != null, tags, limit: o.numPrompts });
  for (const it of items) {
    it.base = { ...it.base, dataset: o.tags?.dataset ?? it.base?.dataset ?? o.datasetPath };
    if (o.tags?.adapter) it.adapter = o.tags.adapter;
  }
  const model = o.model ?? (protocol.startsWith('openai') ? await firstModel(o.url, fx.dispatcher) : null);
  const endpoint: Endpoint = { name: o.tags?.endpoint ?? o.tags?.dataset ?? path, baseUrl: o.url, path, protocol, model, gpu: o.tags?.gpu ?? null };
  return runLoad(run, {
    endpoints: [endpoint], items, requestRate: o.requestRate, burstiness: o.burstiness, maxConcurrency: o.maxConcurrency,
    numPrompts: o.numPrompts ?? items.length, seed: o.seed, timeoutMs: o.timeoutMs, saveChunks: o.saveChunks, stream: o.stream, scrape: o.scrape,
  }, fx);
}

export { PROTOCOL_PATH };
