// `servelab lora probe`: the old probe_arrival_rate.py on the general rate sweep — Poisson
// arrivals at each rate for a window, adapters drawn over --total-loras, every rate a point of
// one run; the statuses (lora_status, from sweep_status) and the COMPARATIVE SUMMARY come from SQL.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError, ExitCode, usageError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { runStages } from '../../analysis/stages.ts';
import type { Endpoint } from '../client.ts';
import { drainOnStopSignals } from '../engine.ts';
import { protocolForPath } from '../protocols.ts';
import { parseRates, queryStage, runPoint, sqlString } from '../sweep/rate-sweep.ts';
import { parseAdapterDist } from '../workloads/adapters.ts';
import { REGIMES, type Regime } from '../workloads/sharegpt.ts';
import { appendCsv, openLoraRun, serverConfig } from './common.ts';
import { checkLoraCounts } from './servers.ts';
import { comparativeSummary, type ProbeRow } from './table.ts';
import { loraWorkload } from './workload.ts';

export const spec: CommandSpec = {
  name: 'lora probe',
  summary: 'arrival-rate probe: each rate classified OK / UNSTABLE / SLOW / TOO HIGH; choose the highest OK',
  description:
    'Status (first that applies): TOO HIGH error rate > 1 %; SLOW p99 TTFT > 10 s; UNSTABLE p99/median TTFT > 5; else OK. ' +
    'TTFT is the server-reported ttft where the protocol gives one (/generate), else the client\'s; both are kept in the run.',
  options: {
    endpoint: { type: 'string', short: 'e', help: 'server URL', default: 'http://localhost:8000' },
    path: { type: 'string', help: 'request path: /generate (sim, your server) or /v1/completions (vLLM, adapters as model lora-i)', default: '/generate' },
    dataset: { type: 'string', help: 'ShareGPT JSON (default: the built-in ShareGPT-like conversations)', metavar: 'FILE' },
    tokenizer: { type: 'string', help: 'tokenizer for prompt lengths (only the bundled LLaMA tokenizer, hf-internal-testing/llama-tokenizer, is available)', default: 'hf-internal-testing/llama-tokenizer' },
    'total-loras': { type: 'integer', help: 'total LoRA adapters (requests draw one uniformly)', default: 128 },
    'gpu-loras': { type: 'integer', help: 'the server\'s HBM budget M, for the records (default: what /health says)', metavar: 'M' },
    'prompt-regime': { type: 'string', help: 'short (256-1024 tokens) or long (2048-4096)', choices: Object.keys(REGIMES), default: 'short' },
    'arrival-rate': { type: 'number', short: 'r', help: 'requests per second', default: 1.0 },
    'arrival-rates': { type: 'string', help: 'comma-separated rates for batch testing, e.g. "0.5,1,2,4,8"', metavar: 'LIST' },
    'duration-seconds': { type: 'number', short: 'd', help: 'test duration per rate (s)', default: 60 },
    timeout: { type: 'number', short: 't', help: 'request timeout (s)', default: 120 },
    out: { type: 'string', short: 'o', help: 'output file: JSONL (metadata + summary lines), or CSV by extension', metavar: 'FILE' },
    'max-tokens': { type: 'integer', help: 'tokens to generate per request', default: 16, min: 1 },
    seed: { type: 'integer', help: 'random seed for reproducibility', default: 42 },
    'adapter-dist': { type: 'string', help: 'how requests pick adapters: uniform or zipf:S', default: 'uniform', metavar: 'DIST' },
    run: { type: 'string', help: 'write into this run (the pipeline\'s) instead of a new one', metavar: 'DIR' },
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  },
  examples: [
    'servelab lora probe --total-loras 128 --prompt-regime short --arrival-rate 2.0 --duration-seconds 60 --out results_2rps.jsonl',
    'servelab lora probe --total-loras 128 --prompt-regime short --arrival-rates "0.5,1,2,4,8,12,16" -d 60 -o results.jsonl',
    'servelab lora probe -e http://gpu-host:8000 --path /v1/completions --gpu-loras 2 --arrival-rates "0.5,1,2,4,8" -o probe_short_gpu2.csv',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const rates = opt.str(p, 'arrival-rates') !== undefined ? parseRates(opt.str(p, 'arrival-rates')!) : parseRates(String(opt.num(p, 'arrival-rate')), '--arrival-rate');
  const duration = opt.num(p, 'duration-seconds')!;
  if (!(duration > 0)) throw usageError(`--duration-seconds: ${duration} must be > 0`);
  if (!(opt.num(p, 'timeout')! > 0)) throw usageError(`--timeout: ${opt.num(p, 'timeout')} must be > 0`);
  const tok = opt.str(p, 'tokenizer')!;
  if (!/llama/i.test(tok)) throw usageError(`--tokenizer ${tok}: only the bundled LLaMA tokenizer (hf-internal-testing/llama-tokenizer) is available`);
  const regime = opt.str(p, 'prompt-regime') as Regime;
  const total = opt.num(p, 'total-loras')!;
  const dist = parseAdapterDist(opt.str(p, 'adapter-dist')!);
  const out = opt.str(p, 'out');
  const base = opt.str(p, 'endpoint')!.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(base)) throw usageError(`--endpoint ${base}: expected a server URL such as http://localhost:8000 (the path goes in --path)`);
  const pathName = opt.str(p, 'path')!;
  const protocol = protocolForPath(pathName);
  if (protocol !== 'generate' && protocol !== 'openai-completions') throw usageError(`--path ${pathName}: expected /generate or /v1/completions`);
  const cfg = protocol === 'generate' ? await serverConfig(base) : null;
  const gpu = opt.num(p, 'gpu-loras') ?? cfg?.gpu_loras ?? null;
  if (cfg?.total_loras !== undefined && cfg.total_loras !== total) throw usageError(`--total-loras ${total}: the server at ${base} has ${cfg.total_loras} adapters (GET /health)`);
  if (gpu !== null) checkLoraCounts(total, gpu);
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  const tags = { lora_step: 'probe', total_loras: total, gpu_loras: gpu, prompt_regime: regime };
  const items = loraWorkload({
    dataset: opt.str(p, 'dataset'), regime, maxTokens: opt.num(p, 'max-tokens')!, totalLoras: total, dist, seed: opt.num(p, 'seed')!,
    count: Math.min(2000, Math.max(32, Math.ceil(Math.max(...rates) * duration))), protocol, tags, warn,
  });
  const config = { ...p.opts, rates };
  const { run, own } = openLoraRun({ run: opt.str(p, 'run'), data: opt.str(p, 'data'), config });
  process.stderr.write(`run ${run.dir}\n`);
  const group = `probe ${regime} N=${total} M=${gpu ?? '?'}`;
  const endpoint: Endpoint = { name: `probe-${regime}-m${gpu ?? 'x'}`, baseUrl: base, path: pathName, protocol, model: null };
  // Ctrl-C or SIGTERM: the load running drains, no further one starts (a second signal cancels).
  const signals = drainOnStopSignals(opt.num(p, 'timeout')!);
  const startIndex = 0;
  try {
    for (let i = 0; i < rates.length && !signals.stopped; i++) {
      const rate = rates[i]!;
      process.stderr.write(`rate ${rate} req/s for ${duration} s (${i + 1}/${rates.length}; about ${Math.round((rates.length - i) * duration)} s left)\n`);
      const o = await runPoint(run, { endpoint, items, group, point: { index: startIndex + i, mode: 'rate', rate }, durationS: duration, timeoutMs: opt.num(p, 'timeout')! * 1000, seed: opt.num(p, 'seed')!, stream: false }, { onEngine: (e) => signals.attach(e), warn });
      process.stderr.write(`  sent ${o.sent}, recorded ${o.records}\n`);
    }
  } finally {
    signals.release();
    run.flush();
  }
  await runStages({ runDir: run.dir, stages: ['lora_status'], log: () => {} });
  const rows = (await queryStage(run.dir, 'lora_status', `WHERE sweep_group = ${sqlString(group)}`, 'ORDER BY sweep_index')) as unknown as (ProbeRow & Record<string, unknown>)[];
  const mine = rows.filter((r) => (r.sweep_index as number) >= startIndex);
  process.stdout.write(comparativeSummary(regime, mine) + '\n');
  const ok = mine.filter((r) => r.status === 'OK');
  const best = ok.length ? Math.max(...ok.map((r) => r.rate)) : null;
  process.stdout.write(best !== null ? `Recommended arrival rate: ${best} req/s (the highest rate marked OK)\n` : 'No rate is OK: try lower rates\n');
  if (out) writeOut(out, { type: 'metadata', ...config, dataset: opt.str(p, 'dataset') ?? 'builtin:sharegpt-like', gpu_loras: gpu, run_dir: run.dir, recommended_rate: best }, mine);
  if (own) run.finish(signals.stopped ? 'incomplete' : 'complete', signals.stopped ? 'stopped by a signal' : undefined);
  if (signals.stopped) throw new CliError(`stopped: the rates measured so far are in ${run.dir}`);
  return ExitCode.ok;
}

const SUMMARY_KEYS = ['rate', 'requests', 'ok', 'success_pct', 'error_rate', 'avg_prompt_tokens', 'p50_ttft_ms', 'p90_ttft_ms', 'p99_ttft_ms', 'p50_client_ttft_ms', 'p50_latency_ms', 'p99_latency_ms', 'achieved_rate', 'saturated', 'status', 'recommended'] as const;

function writeOut(file: string, metadata: Record<string, unknown>, rows: Record<string, unknown>[]): void {
  const summaries = rows.map((r) => Object.fromEntries(SUMMARY_KEYS.map((k) => [k, r[k] ?? null])));
  if (file.endsWith('.csv')) appendCsv(file, SUMMARY_KEYS, summaries);
  else writeFileAtomic(file, [metadata, ...summaries.map((s) => ({ type: 'summary', ...s }))].map((x) => JSON.stringify(x)).join('\n') + '\n');
  process.stderr.write(`wrote ${file}\n`);
}
