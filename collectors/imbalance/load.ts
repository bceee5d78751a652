// One imbalance load (generate, warmup or replay) into a run: the round-robin source through
// the load engine as a closed loop of --max-concurrency slots, per-GPU concurrency sampled into
// `scrapes` (the client's own count, and the server's when --metrics-endpoint is given), the
// prompts file, a graceful stop on Ctrl-C/SIGTERM, and the RESULTS SUMMARY from SQL.
import fs from 'node:fs';
import type { Dispatcher } from 'undici';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { monotonicClock, type Clock } from '../../core/clock.ts';
import { CliError, usageError } from '../../core/errors.ts';
import { createRun, type RunHandle } from '../../core/run.ts';
import type { RequestRecord } from '../../core/schema.ts';
import { firstModel } from '../bench.ts';
import { type Endpoint, makeAgent } from '../client.ts';
import { LoadEngine, type LoadOutcome } from '../engine.ts';
import { protocolForPath } from '../protocols.ts';
import { scrapeOnce } from '../scrape.ts';
import { countTokens } from '../tokenizer.ts';
import { ConcurrencyTracker, gpuMetricsUrl } from './concurrency.ts';
import { ImbalanceSource, type Mode } from './generator.ts';
import { PromptsWriter } from './prompts-file.ts';

export interface ImbalanceLoadOptions {
  mode: Mode;
  /** Full URL, e.g. http://localhost:8000/v1/chat/completions */
  endpoint: string;
  numGpus: number;
  /** Seconds; undefined = until the prompts run out (replay without --loop) or Ctrl-C. */
  durationS?: number;
  maxConcurrency: number;
  maxPrompt: number;
  warmupLoops: number;
  k: number;
  promptsFile: string;
  /** replay: the prompts read from promptsFile. */
  prompts?: string[];
  /** replay: cycle the prompts (until the duration or Ctrl-C). */
  loop?: boolean;
  metricsEndpoint?: string | null;
  /** 'client': size prompts by this client's own in-flight counts even with a metrics endpoint (then only sampled). */
  concurrencyFrom?: 'metrics' | 'client';
  model?: string | null;
  maxTokens?: number | null;
  /** The balancer's name in the records' endpoint column (round-robin, power-of-two, …). */
  label: string;
  runDir?: string;
  shard?: number;
  dataDir?: string;
  scrapeIntervalMs?: number;
  timeoutMs?: number;
  graceMs?: number;
  config?: Record<string, unknown>;
}

export interface ImbalanceEffects {
  clock?: Clock;
  dispatcher?: Dispatcher;
  warn?: (m: string) => void;
  onEngine?: (e: LoadEngine) => void;
  onRecord?: (r: Omit<RequestRecord, 'run' | 'shard'>) => void;
}

export interface ImbalanceResult {
  run: RunHandle;
  outcome: LoadOutcome;
  summary: SummaryRow;
  metricsFailures: number;
}

/** The endpoint a full URL names, with its protocol from the path (chat completions unless it says otherwise). */
export function endpointOf(url: string, label: string): Endpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usageError(`--endpoint '${url}': not a URL (e.g. http://localhost:8000/v1/chat/completions)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--endpoint '${url}': only http:// and https:// URLs`);
  const path = u.pathname === '/' ? '/v1/chat/completions' : u.pathname;
  const protocol = protocolForPath(path);
  if (!protocol) throw usageError(`--endpoint '${url}': unknown API path ${path} (expected /v1/chat/completions, /v1/completions, /completion or /generate)`);
  return { name: label, baseUrl: u.origin, path: path + u.search, protocol };
}

export async function runImbalanceLoad(o: ImbalanceLoadOptions, fx: ImbalanceEffects = {}): Promise<ImbalanceResult> {
  const clock = fx.clock ?? monotonicClock();
  const warn = fx.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const ep = endpointOf(o.endpoint, o.label);
  const ownAgent = fx.dispatcher ? null : makeAgent({});
  const dispatcher = fx.dispatcher ?? ownAgent!;
  const tracker = new ConcurrencyTracker({ numGpus: o.numGpus, metricsEndpoint: o.concurrencyFrom === 'client' ? null : o.metricsEndpoint, dispatcher, warn });
  if (o.mode !== 'replay') {
    if (fs.existsSync(o.promptsFile) && fs.statSync(o.promptsFile).isDirectory()) throw usageError(`--prompts-file ${o.promptsFile}: is a folder`);
  }
  ep.model = o.model ?? (ep.protocol.startsWith('openai') ? await firstModel(ep.baseUrl, dispatcher) : null);
  const shard = o.shard ?? 0;
  const shared = o.runDir !== undefined && fs.existsSync(`${o.runDir}/manifest.json`);
  const run = createRun({ experiment: 'imbalance', dir: o.runDir, dataDir: o.dataDir, shard, resume: shared, config: o.config, servers: [{ kind: 'external', url: ep.baseUrl }] });
  const writer = o.mode === 'replay' ? null : new PromptsWriter(o.promptsFile);
  const source = new ImbalanceSource({
    mode: o.mode, numGpus: o.numGpus, k: o.k, warmupLoops: o.warmupLoops, maxPrompt: o.maxPrompt, prompts: o.prompts, tracker, writer,
    maxTokens: o.maxTokens ?? null, dataset: o.mode, tags: { label: o.label },
  });
  const count = o.mode === 'replay' && !o.loop ? o.prompts!.length : undefined;
  const engine = new LoadEngine(
    run,
    {
      endpoints: [ep], items: [], source: () => source.next(), stream: true, timeoutMs: o.timeoutMs, graceMs: o.graceMs, countTokens,
      mode: { kind: 'closed', users: count === undefined ? o.maxConcurrency : Math.min(o.maxConcurrency, count), durationS: o.durationS, count },
    },
    {
      clock, dispatcher,
      onRecord: (r) => {
        const g = (r.extra as { gpu_assigned?: number } | null)?.gpu_assigned;
        if (typeof g === 'number') tracker.finished(g);
        fx.onRecord?.(r);
      },
    },
  );
  fx.onEngine?.(engine);
  const sampler = startSampler(run, tracker, { clock, dispatcher, metricsEndpoint: o.metricsEndpoint ?? null, numGpus: o.numGpus, intervalMs: o.scrapeIntervalMs ?? 1_000 });
  let outcome: LoadOutcome;
  try {
    outcome = await engine.runLoad();
  } catch (e) {
    await sampler.stop();
    writer?.close();
    await ownAgent?.close();
    if (!shared) run.finish('failed', (e as Error).message);
    throw e;
  }
  await sampler.stop();
  writer?.close();
  await ownAgent?.close();
  if (shared) for (const t of ['requests', 'chunks', 'scrapes'] as const) run.writer(t).close();
  else run.finish(outcome.stopped ? 'incomplete' : 'complete', outcome.stopped ? 'stopped by the user (Ctrl-C)' : undefined);
  const summary = await loadSummary(run.dir, shard);
  return { run, outcome, summary, metricsFailures: tracker.failures };
}

/** Samples every GPU's concurrency each interval: the client's own count, and the server's. */
function startSampler(run: RunHandle, tracker: ConcurrencyTracker, o: { clock: Clock; dispatcher: Dispatcher; metricsEndpoint: string | null; numGpus: number; intervalMs: number }) {
  const targets = o.metricsEndpoint ? Array.from({ length: o.numGpus }, (_, g) => ({ name: 'server', url: gpuMetricsUrl(o.metricsEndpoint!, g), kind: 'gpu-json' as const })) : [];
  const tick = async () => {
    const t = o.clock.nowNs();
    tracker.inFlight.forEach((n, g) => run.append('scrapes', { t_ns: t, target: 'client', metric: 'concurrency', labels: { gpu_id: String(g) }, value: n }));
    // a failing metrics endpoint is already reported (and counted) by the tracker
    await Promise.all(targets.map((tg) => scrapeOnce(run, tg, { clock: o.clock, dispatcher: o.dispatcher }).catch(() => 0)));
  };
  let running: Promise<unknown> = tick();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, o.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}

export interface SummaryRow {
  prompts_sent: number;
  prompts_received: number;
  prompts_failed: number;
  tokens_generated: number;
  tokens_received: number;
  tokens_per_s_generated: number | null;
  tokens_per_s_received: number | null;
  elapsed_s: number | null;
  metrics_failures: number;
  http_400: number;
}

const SUMMARY_SQL = new URL('../../analysis/imbalance/summary.sql', import.meta.url);

/** The imbalance_summary stage's query over one run folder, for one shard (one load). */
export async function loadSummary(runDir: string, shard: number): Promise<SummaryRow> {
  const cat = await openCatalog({ runDirs: [runDir], warn: () => {} });
  try {
    const rows = await queryRows(cat.conn, `SELECT * FROM (${fs.readFileSync(SUMMARY_SQL, 'utf8')}\n) WHERE shard = ${Number(shard)}`);
    const zero: SummaryRow = { prompts_sent: 0, prompts_received: 0, prompts_failed: 0, tokens_generated: 0, tokens_received: 0, tokens_per_s_generated: null, tokens_per_s_received: null, elapsed_s: null, metrics_failures: 0, http_400: 0 };
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const sum = (k: keyof SummaryRow) => rows.reduce((a, r) => a + (num(r[k]) ?? 0), 0);
    if (rows.length === 0) return zero;
    if (rows.length === 1) {
      const r = rows[0]!;
      return Object.fromEntries(Object.keys(zero).map((k) => [k, num(r[k]) ?? (zero as unknown as Record<string, unknown>)[k]])) as unknown as SummaryRow;
    }
    throw new CliError(`${runDir}: shard ${shard} holds ${rows.length} loads (${sum('prompts_sent')} prompts); give each load its own --shard`);
  } finally {
    cat.close();
  }
}

/** The old scripts' table, byte for byte: 60-wide rules, metric left in 40, value right in 17. */
export function summaryTable(s: SummaryRow): string {
  const line = (label: string, v: string) => `${label.padEnd(40)}${v.padStart(17)}`;
  const f2 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  return [
    '='.repeat(60),
    'RESULTS SUMMARY',
    '='.repeat(60),
    line('Metric', 'Value'),
    '-'.repeat(60),
    line('Total prompts sent', String(s.prompts_sent)),
    line('Total prompts received', String(s.prompts_received)),
    line('Total prompts failed', String(s.prompts_failed)),
    line('Total tokens generated', String(s.tokens_generated)),
    line('Total tokens received', String(s.tokens_received)),
    line('Avg tokens/sec generated', f2(s.tokens_per_s_generated)),
    line('Avg tokens/sec received', f2(s.tokens_per_s_received)),
    line('Elapsed time (seconds)', f2(s.elapsed_s)),
    '='.repeat(60),
  ].join('\n');
}
