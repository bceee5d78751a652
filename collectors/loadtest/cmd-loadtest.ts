// `servelab loadtest --config FILE.yaml`: the old YAML load tester. Closed-loop virtual users
// over the load engine, the progress line, the test ending at duration_seconds (in-flight
// requests get the grace period), Pushgateway pushes, then the old summary, analysis lines,
// per-endpoint breakdown and results JSON, all computed by the loadtest_* SQL stages.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type CommandSpec, helpText, opt, parseArgs, type Parsed } from '../../core/args.ts';
import { CliError, ExitCode, usageError } from '../../core/errors.ts';
import { createRun, type RunHandle } from '../../core/run.ts';
import { runLoad } from '../bench.ts';
import type { Endpoint } from '../client.ts';
import type { LoadEngine, LoadOutcome } from '../engine.ts';
import { startProgress } from '../progress.ts';
import { syntheticPrompts } from '../workloads/synthetic.ts';
import { type LoadtestConfig, type LoadtestEndpoint, loadConfig } from './config.ts';
import { makePusher, type Pusher } from './push.ts';
import { readResults } from './results.ts';
import { startSim } from './sim.ts';
import { runWorkers } from './workers.ts';

export const spec: CommandSpec = {
  name: 'loadtest',
  summary: 'the YAML load tester: virtual users against one server or a weighted mix, summary, analysis, Pushgateway',
  description: [
    'Reads the load tester\'s YAML unchanged: server: {base_url, model_alias} or servers: [{name, base_url, model_alias, weight}],',
    'workload: {users, duration_seconds, ramp_up_seconds, seed}, prompts: {min_tokens, max_tokens, prefix},',
    'prometheus: {enabled, pushgateway_url, job_name, instance_name, push_interval_seconds, username, password},',
    'analysis: {error_rate_max, p90_latency_max_seconds, ttft_excellent_seconds} (defaults 0.01, 2, 0.5).',
    'The protocol follows the URL: /completion (llama.cpp), /v1/completions, /v1/chat/completions.',
    'Users start evenly over ramp_up_seconds and send their next request when the last ends; the test ends at',
    'duration_seconds: requests in flight then get --grace seconds, and those still running are cancelled and not',
    'counted. Prompts: prefix + min_tokens…2·min_tokens words of seeded text; max_tokens is the output cap.',
    'Latency = last token − sent; TTFT = first token − sent; percentiles by linear interpolation (SQL stages loadtest_*).',
    'Contention errors = timeouts + HTTP 503. Ctrl-C or SIGTERM: stop, drain for --grace, print the summary (run incomplete).',
    '--workers N spreads the users over N processes writing shards of one run; on several hosts run one process per',
    'host with --shard K --run-id ID --append into a shared --data (a Kubernetes Indexed Job: K = the job index; see',
    'collectors/loadtest/README.md), then `servelab stages RUN`.',
  ].join('\n'),
  options: {
    config: { type: 'string', help: 'the YAML config (data/configs/workload.yaml, data/configs/mixed_warfare.yaml)', metavar: 'FILE' },
    users: { type: 'integer', help: 'override workload.users', min: 1 },
    duration: { type: 'number', help: 'override workload.duration_seconds', metavar: 'S' },
    'ramp-up': { type: 'number', help: 'override workload.ramp_up_seconds', metavar: 'S', min: 0 },
    seed: { type: 'integer', help: 'override workload.seed' },
    'min-tokens': { type: 'integer', help: 'override prompts.min_tokens', min: 1 },
    'max-tokens': { type: 'integer', help: 'override prompts.max_tokens (the output cap)', min: 1 },
    server: { type: 'list', help: 'send a config server\'s requests elsewhere: NAME=URL (origin, or origin+path), repeatable', metavar: 'NAME=URL' },
    only: { type: 'string', help: 'load only this server of the config (the pipeline\'s solo runs)', metavar: 'NAME' },
    sim: { type: 'string', help: 'start the built-in simulated servers of this preset here and send each config server to the one of the same name (else in order), e.g. mixed-warfare-shared', metavar: 'PRESET' },
    scenario: { type: 'string', help: 'label kept in every record (extra.scenario): solo, mixed, …', default: 'main' },
    workers: { type: 'integer', help: 'processes sharing the users (one core each), writing shards of one run', default: 1, min: 1 },
    shard: { type: 'integer', help: 'shard id of this process (with --workers N: the first of N)', default: 0, min: 0 },
    append: { type: 'boolean', help: 'add this load to an existing run (--run-id): solo and mixed loads of one run, shards of other hosts' },
    worker: { type: 'boolean', help: 'run as one process of --workers (no summary, no pushes)' },
    timeout: { type: 'number', help: 'per-request timeout in seconds', default: 600 },
    grace: { type: 'number', help: 'seconds requests in flight get at the end of the test (or after Ctrl-C) before they are cancelled', default: 5 },
    push: { type: 'boolean', help: 'push to the Pushgateway when prometheus.enabled (--no-push: never)', default: true },
    predict: { type: 'boolean', help: 'the serving model\'s prediction of the run in the report (--no-predict: recorded in the run\'s config)', default: true },
    results: { type: 'string', help: 'folder of results/test_run_TIMESTAMP.json', default: 'results', metavar: 'DIR' },
    experiment: { type: 'string', help: 'experiment name of the run', default: 'loadtest' },
    'run-id': { type: 'string', help: 'run id (default: a new timestamped one)' },
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data' },
  },
  examples: [
    'servelab loadtest --config data/configs/workload.yaml',
    'servelab loadtest --config data/configs/mixed_warfare.yaml --sim mixed-warfare-shared --duration 30',
    'servelab loadtest --config data/configs/mixed_warfare.yaml --server Thinker=http://gpu1:8080 --server Flash=http://gpu2:8081',
    'servelab loadtest --config data/configs/workload.yaml --users 200 --workers 2',
    'npx zx pipelines/loadtest.mjs --quick     # each server alone, then mixed, on shared simulated GPUs; report',
  ],
};

/** The config with the command line's overrides applied (flags override the file). */
export function applyOverrides(cfg: LoadtestConfig, p: Parsed): LoadtestConfig {
  const out: LoadtestConfig = { ...cfg, workload: { ...cfg.workload }, prompts: { ...cfg.prompts }, endpoints: cfg.endpoints.map((e) => ({ ...e })) };
  if (opt.num(p, 'min-tokens') !== undefined) out.prompts.minTokens = opt.num(p, 'min-tokens')!;
  if (opt.num(p, 'max-tokens') !== undefined) out.prompts.maxTokens = opt.num(p, 'max-tokens')!;
  if (opt.num(p, 'users') !== undefined) out.workload.users = opt.num(p, 'users')!;
  const d = opt.num(p, 'duration');
  if (d !== undefined) {
    if (!(d > 0)) throw usageError(`--duration: ${d} must be > 0 seconds`);
    out.workload.durationS = d;
  }
  if (opt.num(p, 'ramp-up') !== undefined) out.workload.rampUpS = opt.num(p, 'ramp-up')!;
  if (opt.num(p, 'seed') !== undefined) out.workload.seed = opt.num(p, 'seed')!;
  const names = out.endpoints.map((e) => e.name);
  for (const s of opt.list(p, 'server')) {
    const m = /^([^=]+)=(https?:\/\/[^/\s]+)(\/\S*)?$/.exec(s);
    if (!m) throw usageError(`--server '${s}': expected NAME=URL, e.g. Flash=http://127.0.0.1:8081 (names: ${names.join(', ')})`);
    const ep = out.endpoints.find((e) => e.name === m[1]);
    if (!ep) throw usageError(`--server '${s}': no server '${m[1]}' in ${cfg.file} (names: ${names.join(', ')})`);
    ep.baseUrl = m[2]!;
    if (m[3] && m[3] !== '/') ep.path = m[3];
  }
  const only = opt.str(p, 'only');
  if (only !== undefined) {
    const ep = out.endpoints.find((e) => e.name === only);
    if (!ep) throw usageError(`--only '${only}': no such server in ${cfg.file} (names: ${names.join(', ')})`);
    out.endpoints = [ep];
  }
  return out;
}

/** What the run's manifest keeps: the file, its content, the resolved settings and the flags. */
function manifestConfig(cfg: LoadtestConfig, p: Parsed): Record<string, unknown> {
  return {
    config_file: cfg.file,
    file: cfg.raw,
    analysis: { error_rate_max: cfg.analysis.errorRateMax, p90_latency_max_seconds: cfg.analysis.p90LatencyMaxS, ttft_excellent_seconds: cfg.analysis.ttftExcellentS },
    workload: cfg.workload,
    prompts: cfg.prompts,
    endpoints: cfg.endpoints,
    flags: p.opts,
  };
}

function endpointsOf(cfg: LoadtestConfig): Endpoint[] {
  return cfg.endpoints.map((e: LoadtestEndpoint) => ({ name: e.name, baseUrl: e.baseUrl, path: e.path, protocol: e.protocol, model: e.model, weight: e.weight, stream: true }));
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(spec, argv);
  if (p.help) {
    process.stdout.write(helpText(spec) + '\n');
    return ExitCode.ok;
  }
  const file = opt.str(p, 'config');
  if (!file) throw usageError('--config FILE is required, e.g. --config data/configs/workload.yaml');
  let cfg = applyOverrides(loadConfig(file), p);
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const sim = opt.str(p, 'sim') ? await startSim(opt.str(p, 'sim')!, cfg) : null;
  if (sim) cfg = sim.config;
  try {
    if (opt.num(p, 'workers')! > 1 && !opt.bool(p, 'worker')) return await coordinate(cfg, p, warn, sim !== null);
    return await single(cfg, p, warn, sim !== null);
  } finally {
    await sim?.close();
  }
}

function openRun(cfg: LoadtestConfig, p: Parsed, simulated: boolean): RunHandle {
  const shard = opt.num(p, 'shard')!;
  const servers = cfg.endpoints.map((e) => ({ kind: simulated ? 'sim' : 'external', name: e.name, url: e.baseUrl + e.path, ...(simulated ? { preset: opt.str(p, 'sim') } : {}) }));
  const run = createRun({
    experiment: opt.str(p, 'experiment')!,
    runId: opt.str(p, 'run-id'),
    dataDir: opt.str(p, 'data'),
    config: manifestConfig(cfg, p),
    shard,
    resume: shard > 0 || opt.bool(p, 'append') || opt.bool(p, 'worker'),
    servers,
  });
  // a load appended to a run (the pipeline's solo and mixed loads) adds the servers it used
  const known = Array.isArray(run.manifest.servers) ? (run.manifest.servers as { name?: string }[]) : [];
  const added = servers.filter((s) => !known.some((k) => k.name === s.name));
  if (added.length && !opt.bool(p, 'worker')) run.updateManifest({ servers: [...known, ...added] as RunHandle['manifest']['servers'] });
  return run;
}

/** Stops on Ctrl-C / SIGTERM: the first drains for the grace period, the second cancels now. */
function onSignals(stop: () => void, cancel: () => void, grace: number): () => void {
  let n = 0;
  const handler = (sig: NodeJS.Signals) => {
    n++;
    if (n === 1) {
      process.stderr.write(`\n${sig}: stopping: no new requests; waiting up to ${grace} s for those in flight (again cancels them)\n`);
      stop();
    } else cancel();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Pushes every interval (never two at once), and once at the end. */
function startPushing(pusher: Pusher | null, intervalS: number, activeUsers: () => number): { final: () => Promise<void> } {
  if (!pusher) return { final: async () => {} };
  const t0 = performance.now();
  let busy: Promise<unknown> | null = null;
  const tick = () => {
    if (busy) return;
    busy = pusher.push((performance.now() - t0) / 1000, activeUsers()).finally(() => (busy = null));
  };
  const timer = setInterval(tick, intervalS * 1000);
  timer.unref();
  return {
    final: async () => {
      clearInterval(timer);
      await busy;
      await pusher.push((performance.now() - t0) / 1000, 0);
    },
  };
}

async function single(cfg: LoadtestConfig, p: Parsed, warn: (m: string) => void, simulated: boolean): Promise<number> {
  const worker = opt.bool(p, 'worker');
  const scenario = opt.str(p, 'scenario')!;
  const { users, durationS, rampUpS, seed } = cfg.workload;
  const run = openRun(cfg, p, simulated);
  if (!worker) process.stderr.write(`run ${run.dir}\n`);
  const items = syntheticPrompts({
    num: 500, seed, inputLen: Math.round(cfg.prompts.minTokens * 1.5), rangeRatio: 1 / 3, unit: 'words',
    outputLen: cfg.prompts.maxTokens, prefix: cfg.prompts.prefix, ignoreEos: false, dataset: 'loadtest', tags: { extra: { scenario } },
  });
  for (const it of items) it.ignoreEos = false;
  let engine: LoadEngine | undefined;
  let signalled = false;
  const grace = opt.num(p, 'grace')!;
  const off = onSignals(() => ((signalled = true), engine?.stop()), () => engine?.cancelNow(), grace);
  const prog = worker ? null : startProgress({ activeUsers: () => engine?.activeRequests ?? 0, durationS });
  const pusher = cfg.push && opt.bool(p, 'push') && !worker ? makePusher(cfg.push, run.dir, scenario, warn) : null;
  const pushing = startPushing(pusher, cfg.push?.intervalS ?? 5, () => engine?.activeRequests ?? 0);
  // The test ends at duration_seconds: no new request, and those in flight get the grace period.
  let deadline: NodeJS.Timeout | undefined;
  let outcome: LoadOutcome;
  try {
    outcome = await runLoad(
      run,
      {
        endpoints: endpointsOf(cfg), items, closed: { users, rampUpS }, durationS,
        timeoutMs: opt.num(p, 'timeout')! * 1000, graceMs: grace * 1000, seed: seed + run.shard, stream: true,
      },
      {
        onRecord: (r) => prog?.record(r),
        warn,
        onEngine: (e) => {
          engine = e;
          deadline = setTimeout(() => e.stop(), durationS * 1000);
        },
      },
    );
  } catch (e) {
    prog?.stop();
    run.finish('failed', (e as Error).message);
    throw e instanceof CliError ? e : new CliError(`loadtest: ${(e as Error).message}`);
  } finally {
    clearTimeout(deadline);
    off();
  }
  prog?.stop();
  await pushing.final();
  run.finish(signalled ? 'incomplete' : 'complete', signalled ? 'stopped by a signal (Ctrl-C or SIGTERM)' : undefined);
  if (worker) return signalled ? ExitCode.failure : ExitCode.ok;
  return report(run, cfg, p, { signalled, pusher, sent: outcome.sent });
}

async function coordinate(cfg: LoadtestConfig, p: Parsed, warn: (m: string) => void, simulated: boolean): Promise<number> {
  const run = openRun(cfg, p, simulated);
  process.stderr.write(`run ${run.dir} (${opt.num(p, 'workers')} worker processes)\n`);
  const scenario = opt.str(p, 'scenario')!;
  let children: ChildProcess[] = [];
  let signalled = false;
  const off = onSignals(
    () => {
      signalled = true;
      for (const c of children) c.kill('SIGTERM');
    },
    () => {
      for (const c of children) c.kill('SIGTERM');
    },
    opt.num(p, 'grace')!,
  );
  const pusher = cfg.push && opt.bool(p, 'push') ? makePusher(cfg.push, run.dir, scenario, warn) : null;
  const t0 = performance.now();
  const active = () => activeUsersAt((performance.now() - t0) / 1000, cfg.workload);
  const pushing = startPushing(pusher, cfg.push?.intervalS ?? 5, active);
  let codes: number[];
  try {
    codes = await runWorkers(cfg, p, run, { onSpawn: (c) => (children = c), activeUsers: active });
  } finally {
    off();
  }
  await pushing.final();
  // the workers updated the manifest (their counts): start from theirs
  run.manifest = JSON.parse(fs.readFileSync(path.join(run.dir, 'manifest.json'), 'utf8')) as RunHandle['manifest'];
  const failed = codes.filter((c) => c !== 0 && !signalled).length;
  run.finish(signalled ? 'incomplete' : failed ? 'failed' : 'complete', signalled ? 'stopped by a signal (Ctrl-C or SIGTERM)' : failed ? `${failed} worker(s) failed` : undefined);
  return report(run, cfg, p, { signalled, pusher, sent: -1 });
}

/** Users running at `t` s: started evenly over the ramp, all until the end of the test. */
export function activeUsersAt(t: number, w: LoadtestConfig['workload']): number {
  if (t >= w.durationS) return 0;
  if (w.rampUpS <= 0) return w.users;
  return Math.min(w.users, Math.floor((t * w.users) / w.rampUpS) + 1);
}

async function report(run: RunHandle, cfg: LoadtestConfig, p: Parsed, o: { signalled: boolean; pusher: Pusher | null; sent: number }): Promise<number> {
  const r = await readResults(run.dir, opt.str(p, 'scenario')!, cfg, opt.str(p, 'results')!);
  process.stdout.write(`\n${r.summary}`);
  if (r.cancelled > 0) process.stderr.write(`note: ${r.cancelled} request(s) still in flight after the ${opt.num(p, 'grace')} s grace period were cancelled and are not counted\n`);
  if (o.pusher) process.stderr.write(`Pushgateway: ${o.pusher.pushes} push(es) to ${cfg.push!.url}${o.pusher.failures ? `, ${o.pusher.failures} failed` : ''}\n`);
  process.stderr.write(`Results saved to ${r.resultsFile}\n`);
  if (o.signalled) {
    process.stderr.write(`run ${run.id} is marked incomplete (stopped early); the records so far are in ${run.dir}\n`);
    return ExitCode.failure;
  }
  if (r.successful === 0 && r.total > 0) {
    process.stderr.write(`servelab: no request succeeded (${r.total} failed); see the errors in ${run.rawFile('requests')}\n`);
    return ExitCode.failure;
  }
  return ExitCode.ok;
}
