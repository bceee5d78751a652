// `servelab lora sweep`: the old ttft_latency_loras.py loop in one command — for each HBM budget M
// the server is (re)started with N adapters and M resident, swap stats reset before and read after
// a Poisson load of --num-requests over uniformly drawn adapters; one CSV row per value, its
// figures from the lora_ttft_by_m stage. A value whose server fails is marked failed and the sweep goes on.
import { opt, type CommandSpec, parseOrHelp, type Parsed } from '../../core/args.ts';
import { monotonicClock } from '../../core/clock.ts';
import { CliError, ExitCode, errorMessage, usageError } from '../../core/errors.ts';
import { formatTable } from '../../core/output.ts';
import type { RunHandle } from '../../core/run.ts';
import { runStages } from '../../analysis/stages.ts';
import type { Endpoint } from '../client.ts';
import { drainOnStopSignals } from '../engine.ts';
import { type RunningServer, startServer } from '../launchers/index.ts';
import { queryStage, runPoint, sqlString } from '../sweep/rate-sweep.ts';
import { parseAdapterDist } from '../workloads/adapters.ts';
import { REGIMES, type Regime } from '../workloads/sharegpt.ts';
import { appendCsv, openLoraRun, runTimestamp } from './common.ts';
import { serverKnobs, serverOptions } from './server-flags.ts';
import { checkLoraCounts, loraProtocol, loraServerSpec, type LoraServerKind } from './servers.ts';
import { loraWorkload } from './workload.ts';

/** The old CSV's columns first, then the new ones (mean/p90, latency, success, swaps, status). */
export const CSV_COLUMNS = [
  'run_timestamp', 'total_loras', 'gpu_loras', 'prompt_regime', 'arrival_rate', 'num_requests', 'ttft_median', 'ttft_p99',
  'ttft_mean', 'ttft_p90', 'latency_median', 'latency_p99', 'latency_mean', 'success_count', 'error_count', 'success_rate',
  'swap_calls', 'swap_count', 'status', 'error',
] as const;

export const spec: CommandSpec = {
  name: 'lora sweep',
  summary: 'TTFT/latency over the HBM budget: for each --gpu-loras value start the server, reset swap stats, load it, read them, append a CSV row',
  description:
    'CSV times are seconds (ttft_*, latency_*), as the old ttft_latency_loras.py wrote them; TTFT is the server-reported ttft (/generate), else the client\'s. ' +
    '--server external measures the server already at --endpoint (one --gpu-loras value; restart it yourself), as the old script did.',
  options: {
    'total-loras': { type: 'integer', help: 'total LoRA adapters (CPU side) (required)', metavar: 'N' },
    'gpu-loras': { type: 'list', help: 'LoRA adapters in GPU HBM: one value or a list, largest first', default: ['128', '64', '32', '16', '8', '4', '2'], metavar: 'M,…' },
    'prompt-regime': { type: 'string', help: 'short (256-1024 tokens) or long (2048-4096)', choices: Object.keys(REGIMES), default: 'short' },
    'arrival-rate': { type: 'number', short: 'r', help: 'requests per second', default: 2.0 },
    'num-requests': { type: 'integer', short: 'n', help: 'number of requests per value', default: 200, min: 1 },
    timeout: { type: 'number', short: 't', help: 'request timeout (s)', default: 120 },
    out: { type: 'string', short: 'o', help: 'CSV file (appended; header once)', metavar: 'FILE.csv' },
    'show-swap-stats': { type: 'boolean', help: 'show LoRA swap stats after each value' },
    endpoint: { type: 'string', short: 'e', help: '--server external: the running server\'s URL', default: 'http://localhost:8000' },
    dataset: { type: 'string', help: 'ShareGPT JSON (default: the built-in ShareGPT-like conversations)', metavar: 'FILE' },
    tokenizer: { type: 'string', help: 'tokenizer for prompt lengths; also given to the server', metavar: 'NAME' },
    'max-tokens': { type: 'integer', help: 'tokens to generate per request', default: 16, min: 1 },
    'adapter-dist': { type: 'string', help: 'how requests pick adapters: uniform or zipf:S', default: 'uniform', metavar: 'DIST' },
    port: { type: 'integer', help: 'port of a started vLLM or /generate server (sim: the OS picks)', default: 8000, min: 0 },
    'startup-timeout': { type: 'number', help: 'seconds a started server has to become healthy [default: 600; sim 30]', metavar: 'S' },
    ...serverOptions,
    server: { ...serverOptions.server!, help: serverOptions.server!.help + '; external: the server already at --endpoint', choices: ['sim', 'vllm', 'generate', 'external'] },
    run: { type: 'string', help: 'write into this run (the pipeline\'s) instead of a new one', metavar: 'DIR' },
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  },
  examples: [
    'servelab lora sweep --total-loras 128 --gpu-loras 128,64,32,16,8,4,2 --prompt-regime short --arrival-rate 2.0 --num-requests 200 --out ttft_short_total128.csv --show-swap-stats',
    'servelab lora sweep --total-loras 256 --gpu-loras 256,128,64,32,16,8,4,2 --prompt-regime long -r 1 -o ttft_long_total256.csv',
    'servelab lora sweep --server vllm --model meta-llama/Llama-2-7b-hf --total-loras 128 --gpu-loras 128,8,2 -o ttft.csv',
    'servelab lora sweep --server external -e http://localhost:8000 --total-loras 128 --gpu-loras 32 -o ttft_results.csv',
  ],
};

function gpuValues(p: Parsed, total: number): number[] {
  const raw = opt.list(p, 'gpu-loras');
  if (raw.length === 0) throw usageError('--gpu-loras: empty list; e.g. 128,64,32,16,8,4,2');
  return raw.map((s) => {
    const m = Number(s);
    if (!Number.isInteger(m) || m < 1) throw usageError(`--gpu-loras: '${s}' is not a whole number ≥ 1`);
    checkLoraCounts(total, m);
    return m;
  });
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const total = opt.num(p, 'total-loras');
  if (total === undefined) throw usageError('lora sweep: --total-loras is required', ['e.g. servelab lora sweep --total-loras 128 --gpu-loras 128,64,32,16,8,4,2']);
  const defaultList = !argv.some((a) => a === '--gpu-loras' || a.startsWith('--gpu-loras='));
  // The old list starts at 128; with another N the default is N, N/2, … 2.
  if (defaultList && total !== 128) p.opts['gpu-loras'] = powersDown(total).map(String);
  const values = gpuValues(p, total);
  const rate = opt.num(p, 'arrival-rate')!;
  if (!(rate > 0) || !Number.isFinite(rate)) throw usageError(`--arrival-rate: ${rate} must be a rate > 0 (req/s)`);
  if (!(opt.num(p, 'timeout')! > 0)) throw usageError(`--timeout: ${opt.num(p, 'timeout')} must be > 0`);
  const kind = opt.str(p, 'server') as LoraServerKind | 'external';
  if (kind === 'external' && values.length > 1) throw usageError(`--server external measures the server already running: give one --gpu-loras value (it has ${values.length}); or let the sweep start servers (--server sim|vllm|generate)`);
  const regime = opt.str(p, 'prompt-regime') as Regime;
  const dist = parseAdapterDist(opt.str(p, 'adapter-dist')!);
  const out = opt.str(p, 'out');
  if (out && !out.endsWith('.csv')) throw usageError(`--out ${out}: the sweep appends CSV rows; name a .csv file`);
  const protocol = kind === 'external' ? 'generate' : loraProtocol(kind);
  const n = opt.num(p, 'num-requests')!;
  const base = loraWorkload({ dataset: opt.str(p, 'dataset'), regime, maxTokens: opt.num(p, 'max-tokens')!, totalLoras: total, dist, seed: opt.num(p, 'seed')!, count: n, protocol, tags: {}, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const { run, own } = openLoraRun({ run: opt.str(p, 'run'), data: opt.str(p, 'data'), config: { ...p.opts } });
  process.stderr.write(`run ${run.dir}\n`);
  const clock = monotonicClock();
  // Ctrl-C or SIGTERM: the load running drains, no further one starts (a second signal cancels).
  const signals = drainOnStopSignals(opt.num(p, 'timeout')!);
  const t0 = performance.now();
  const rows: Record<string, unknown>[] = [];
  let serverSeconds = 0;
  try {
    for (let i = 0; i < values.length && !signals.stopped; i++) {
      const m = values[i]!;
      const eta = i === 0 ? '' : `; about ${Math.round(((performance.now() - t0) / 1000 / i) * (values.length - i))} s left`;
      process.stderr.write(`[${i + 1}/${values.length}] gpu_loras=${m} (total ${total}, ${regime}, ${rate} req/s, ${n} requests${eta})\n`);
      const labels = { total_loras: total, gpu_loras: m, prompt_regime: regime, arrival_rate: rate };
      const items = base.map((it) => ({ ...it, base: { ...it.base, extra: { ...(it.base!.extra as object), lora_step: 'sweep', ...labels } } }));
      let server: RunningServer | null = null;
      let error: string | null = null;
      const s0 = performance.now();
      try {
        server = kind === 'external'
          ? await startServer({ kind: 'external', name: 'external', url: opt.str(p, 'endpoint')! })
          : await startServer(loraServerSpec(serverKnobs(p, total, m, kind === 'sim' ? 0 : opt.num(p, 'port')!)), { logDir: `${run.dir}/raw`, timeoutMs: startupMs(p) });
        const url = server.url;
        // The run names every server it measured, so servelab sim predict replays each sweep value on its own config.
        const listed = Array.isArray(run.manifest.servers) ? (run.manifest.servers as unknown[]) : [];
        run.updateManifest({ servers: [...listed, { name: `sweep-${regime}-n${total}-m${m}`, kind, url, command: server.command ?? null }] as never });
        const hasSwap = protocol === 'generate';
        if (hasSwap) await post(url + '/reset_swap_stats');
        const endpoint: Endpoint = { name: `sweep-${regime}-n${total}-m${m}`, baseUrl: url, path: protocol === 'generate' ? '/generate' : '/v1/completions', protocol, model: null };
        await runPoint(run, { endpoint, items, group: `sweep ${regime} N=${total}`, point: { index: m, mode: 'rate', rate }, count: n, timeoutMs: opt.num(p, 'timeout')! * 1000, seed: opt.num(p, 'seed')!, stream: false }, { clock, onEngine: (e) => signals.attach(e) });
        if (hasSwap) {
          const stats = await getJson(url + '/swap_stats');
          if (!stats) error = `the server stopped answering during the load (GET ${url}/swap_stats failed); see ${server.logFile ?? 'its log'}`;
          else {
            recordSwapStats(run, clock.nowNs(), url, labels, stats);
            if (opt.bool(p, 'show-swap-stats')) process.stdout.write(`swap stats (gpu_loras=${m}): init ${JSON.stringify(stats.init)} runtime ${JSON.stringify(stats.runtime)}\n`);
          }
        }
      } catch (e) {
        error = errorMessage(e);
      } finally {
        if (server && kind !== 'external') await server.stop();
        serverSeconds += (performance.now() - s0) / 1000;
      }
      if (error) process.stderr.write(`gpu_loras=${m}: FAILED: ${error} (marked failed; the sweep goes on)\n`);
      run.append('scrapes', { t_ns: clock.nowNs(), target: 'lora sweep', metric: 'lora_sweep_point_ok', labels: { ...labels, ...(error ? { error } : {}) }, value: error ? 0 : 1 });
      run.flush();
      const row = await csvRow(run.dir, regime, total, m);
      rows.push(row);
      if (out) appendCsv(out, CSV_COLUMNS, [row]);
      process.stderr.write(`  ttft median ${fmt(row.ttft_median)} s, p99 ${fmt(row.ttft_p99)} s, success ${row.success_count}/${row.num_requests}, swaps ${row.swap_count ?? 'n/a'}${error ? ' FAILED' : ''}\n`);
    }
  } finally {
    signals.release();
    run.flush();
  }
  process.stdout.write(formatTable(['gpu_loras', 'requests', 'ok', 'ttft_median_s', 'ttft_p99_s', 'latency_median_s', 'swap_count', 'status'], rows.map((r) => [r.gpu_loras, r.num_requests, r.success_count, r.ttft_median, r.ttft_p99, r.latency_median, r.swap_count, r.status])) + '\n');
  const wall = (performance.now() - t0) / 1000;
  process.stderr.write(`wall ${wall.toFixed(1)} s; with the servers (start, load, stop) ${serverSeconds.toFixed(1)} s (${((100 * serverSeconds) / wall).toFixed(0)}%)\n`);
  if (out) process.stderr.write(`appended ${rows.length} row(s) to ${out}\n`);
  const failed = rows.filter((r) => r.status === 'failed').length;
  if (own) run.finish(signals.stopped ? 'incomplete' : 'complete', signals.stopped ? 'stopped by a signal' : failed ? `${failed} sweep value(s) failed` : undefined);
  if (signals.stopped) throw new CliError(`stopped: the values measured so far are in ${run.dir}${out ? ` and ${out}` : ''}`);
  return failed ? ExitCode.failure : ExitCode.ok;
}

function startupMs(p: Parsed): number | undefined {
  const s = opt.num(p, 'startup-timeout');
  if (s === undefined) return undefined;
  if (!(s > 0)) throw usageError(`--startup-timeout: ${s} must be > 0 (seconds)`);
  return s * 1000;
}

function powersDown(n: number): number[] {
  const out = [n];
  for (let m = 2 ** Math.floor(Math.log2(n)); m >= 2; m /= 2) if (m < n) out.push(m);
  return out;
}

const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : 'n/a');

async function post(url: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`POST ${url}: HTTP ${res.status}`);
}

async function getJson(url: string): Promise<{ init?: Record<string, number>; runtime?: Record<string, number> } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return res.status === 200 ? ((await res.json()) as { init?: Record<string, number>; runtime?: Record<string, number> }) : null;
  } catch {
    return null;
  }
}

/** /swap_stats counters as scrapes rows (lora_swap_calls / lora_swap_count, scope init | runtime). */
function recordSwapStats(run: RunHandle, tNs: number, url: string, labels: Record<string, unknown>, stats: { init?: Record<string, number>; runtime?: Record<string, number> }): void {
  for (const scope of ['init', 'runtime'] as const) {
    for (const k of ['swap_calls', 'swap_count'] as const) {
      const v = stats[scope]?.[k];
      if (typeof v === 'number') run.append('scrapes', { t_ns: tNs, target: `${url}/swap_stats`, metric: `lora_${k}`, labels: { ...labels, scope }, value: v });
    }
  }
}

/** The value's CSV row, from the lora_ttft_by_m stage. */
async function csvRow(runDir: string, regime: string, total: number, m: number): Promise<Record<string, unknown>> {
  await runStages({ runDir, stages: ['lora_ttft_by_m'], log: () => {} });
  const [r] = await queryStage(runDir, 'lora_ttft_by_m', `WHERE prompt_regime = ${sqlString(regime)} AND total_loras = ${total} AND gpu_loras = ${m}`, '');
  const x = r ?? {};
  return {
    run_timestamp: runTimestamp(), total_loras: total, gpu_loras: m, prompt_regime: regime, arrival_rate: x.arrival_rate, num_requests: x.num_requests ?? 0,
    ttft_median: x.ttft_median_s, ttft_p99: x.ttft_p99_s, ttft_mean: x.ttft_mean_s, ttft_p90: x.ttft_p90_s,
    latency_median: x.latency_median_s, latency_p99: x.latency_p99_s, latency_mean: x.latency_mean_s,
    success_count: x.success_count ?? 0, error_count: x.error_count ?? 0, success_rate: x.success_rate, swap_calls: x.swap_calls, swap_count: x.swap_count,
    status: x.status ?? 'failed', error: x.error ?? null,
  };
}
