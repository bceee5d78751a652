// `servelab sweep`: a rate sweep of one server that any experiment can use — a rate list; an
// automatic sweep as GuideLLM's (synchronous, then throughput, then rates spaced between them);
// or --sla, a search for the highest rate that meets every SLO (as vLLM's SLA sweep). Each point
// is a phase of one run; a point that saturates the server stops the sweep. Statuses, saturation
// and the SLA answer come from the sweep_status stage.
import { opt, type CommandSpec, parseOrHelp, type Parsed } from '../../core/args.ts';
import { monotonicClock } from '../../core/clock.ts';
import { CliError, ExitCode, usageError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { formatTable } from '../../core/output.ts';
import { createRun } from '../../core/run.ts';
import { firstModel } from '../bench.ts';
import type { Endpoint } from '../client.ts';
import { drainOnStopSignals, type WorkItem } from '../engine.ts';
import { CLIENT_PROTOCOLS, type Protocol, protocolForPath } from '../protocols.ts';
import { loadShareGpt } from '../workloads/sharegpt.ts';
import { syntheticPrompts } from '../workloads/synthetic.ts';
import { parseRates, runPoint, slaAnswer, slaPredicate, type StatusRow, sweepStatus, type SweepPoint } from './rate-sweep.ts';

export const spec: CommandSpec = {
  name: 'sweep',
  summary: 'a rate sweep of one server: a rate list, automatic (synchronous → throughput → rates between), or --sla search',
  description:
    'Each point runs for --duration seconds (open loop, Poisson) and is a phase of one run. Status per point (sweep_status): TOO HIGH error rate > 1 %; ' +
    'SLOW p99 TTFT > 10 s; UNSTABLE p99/median TTFT > 5; else OK. Saturated: achieved rate < 0.9 × offered, or TTFT of the last third ' +
    '> 3 × the first third; the sweep stops there unless --no-stop-on-saturation.',
  options: {
    'base-url': { type: 'string', help: 'server base URL', default: 'http://127.0.0.1:8000' },
    endpoint: { type: 'string', help: 'request path (picks the protocol)', default: '/v1/completions' },
    backend: { type: 'string', help: 'protocol, when the path does not say', choices: CLIENT_PROTOCOLS },
    model: { type: 'string', help: 'model name (default: the first of GET /v1/models)' },
    rates: { type: 'string', help: 'the rates to run, req/s, in order, e.g. "1,2,4,8"', metavar: 'LIST' },
    sla: { type: 'list', help: 'search the highest rate meeting every SLO, repeatable: p99_ttft_ms<500, error_rate<0.01, …', metavar: 'EXPR' },
    points: { type: 'integer', help: 'automatic: rates spaced between synchronous and throughput', default: 5, min: 1 },
    'search-steps': { type: 'integer', help: '--sla: bisection steps', default: 5, min: 1 },
    duration: { type: 'number', help: 'seconds per point', default: 30, metavar: 'S' },
    'max-concurrency': { type: 'integer', help: 'users of the throughput point', default: 64, min: 1 },
    'stop-on-saturation': { type: 'boolean', help: 'stop at the first saturated point', default: true },
    'dataset-name': { type: 'string', help: 'workload', choices: ['random', 'sharegpt'], default: 'random' },
    'dataset-path': { type: 'string', help: 'ShareGPT JSON' },
    'random-input-len': { type: 'integer', help: 'random: prompt tokens', default: 512, min: 1 },
    'random-output-len': { type: 'integer', help: 'random: output tokens (max_tokens with ignore_eos)', default: 64, min: 1 },
    timeout: { type: 'number', help: 'per-request timeout (s)', default: 120 },
    stream: { type: 'boolean', help: 'stream responses [default: on; off for /generate]' },
    seed: { type: 'integer', help: 'seed for arrivals and sampling', default: 0 },
    out: { type: 'string', short: 'o', help: 'also write the points (JSONL, or CSV by extension)', metavar: 'FILE' },
    experiment: { type: 'string', help: 'experiment name of the run', default: 'sweep' },
    'run-id': { type: 'string', help: 'run id (default: a new timestamped one)' },
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data' },
  },
  examples: [
    'servelab sweep --base-url http://127.0.0.1:8000 --rates 1,2,4,8,16 --duration 30',
    'servelab sweep --base-url http://127.0.0.1:8000                      # automatic: synchronous, throughput, 5 rates between',
    'servelab sweep --sla "p99_ttft_ms<500" --sla "error_rate<0.01" --duration 20',
    'servelab sweep --base-url http://127.0.0.1:8000 --endpoint /generate --rates 0.5,1,2,4,8',
  ],
};

function workload(p: Parsed): WorkItem[] {
  if (opt.str(p, 'dataset-name') === 'sharegpt') {
    const file = opt.str(p, 'dataset-path');
    if (!file) throw usageError('--dataset-name sharegpt needs --dataset-path');
    return loadShareGpt({ path: file, numPrompts: 1000, seed: opt.num(p, 'seed')! });
  }
  return syntheticPrompts({ num: 1000, seed: opt.num(p, 'seed')!, inputLen: opt.num(p, 'random-input-len')!, outputLen: opt.num(p, 'random-output-len')!, ignoreEos: true });
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const rates = opt.str(p, 'rates') !== undefined ? parseRates(opt.str(p, 'rates')!, '--rates') : null;
  const slos = opt.list(p, 'sla');
  if (rates && slos.length) throw usageError('--rates and --sla: give one (a rate list, or an SLA search between the synchronous and throughput rates)');
  if (slos.length) slaPredicate(slos);
  const duration = opt.num(p, 'duration')!;
  if (!(duration > 0)) throw usageError(`--duration: ${duration} must be > 0`);
  const pathName = opt.str(p, 'endpoint')!;
  const protocol = (opt.str(p, 'backend') as Protocol | undefined) ?? protocolForPath(pathName);
  if (!protocol) throw usageError(`--endpoint ${pathName}: unknown path; give --backend (${CLIENT_PROTOCOLS.join('|')})`);
  const stream = p.opts.stream !== undefined ? opt.bool(p, 'stream') : protocol !== 'generate';
  const baseUrl = opt.str(p, 'base-url')!;
  const model = opt.str(p, 'model') ?? (protocol.startsWith('openai') ? await firstModel(baseUrl) : null);
  const endpoint: Endpoint = { name: pathName, baseUrl, path: pathName, protocol, model, stream };
  const items = workload(p);
  const mode = rates ? 'list' : slos.length ? 'sla' : 'auto';
  const run = createRun({ experiment: opt.str(p, 'experiment')!, runId: opt.str(p, 'run-id'), dataDir: opt.str(p, 'data'), config: { ...p.opts, mode, model }, servers: [{ kind: 'external', url: baseUrl }] });
  process.stderr.write(`run ${run.dir}\n`);
  const clock = monotonicClock();
  const group = 'sweep';
  // Ctrl-C or SIGTERM: the load running drains, no further one starts (a second signal cancels).
  const signals = drainOnStopSignals(opt.num(p, 'timeout')!);
  let index = 0;
  let last: StatusRow[] = [];
  const point = async (mode: SweepPoint['mode'], rate: number | null): Promise<StatusRow | undefined> => {
    if (signals.stopped) return undefined;
    const i = index++;
    process.stderr.write(`point ${i}: ${mode === 'rate' ? `${Number(rate!.toPrecision(4))} req/s` : mode} for ${duration} s\n`);
    await runPoint(run, { endpoint, items, group, point: { index: i, mode, rate }, durationS: duration, maxConcurrency: opt.num(p, 'max-concurrency'), timeoutMs: opt.num(p, 'timeout')! * 1000, seed: opt.num(p, 'seed')!, stream }, { clock, onEngine: (e) => signals.attach(e) });
    run.flush();
    last = await sweepStatus(run.dir, group);
    const row = last.find((r) => r.sweep_index === i);
    if (row) process.stderr.write(`  ${row.status}${row.saturated ? ', saturated' : ''}: achieved ${fmt(row.achieved_rate)} req/s, p99 TTFT ${fmt(row.p99_ttft_ms as number)} ms\n`);
    return row;
  };
  let answer: string | null = null;
  try {
    if (mode === 'list') {
      for (const r of rates!) {
        const row = await point('rate', r);
        if (row?.saturated && opt.bool(p, 'stop-on-saturation')) {
          process.stderr.write(`stopping: the server saturated at ${r} req/s (skipped: ${rates!.filter((x) => x > r).join(', ') || 'none'})\n`);
          break;
        }
      }
    } else {
      const sync = await point('synchronous', null);
      const thr = await point('throughput', null);
      const lo = sync?.achieved_rate ?? null;
      const hi = thr?.achieved_rate ?? null;
      if (lo === null || hi === null || !(hi > 0)) throw new CliError('the synchronous or throughput point completed no request; see the run\'s records');
      if (mode === 'auto') {
        const k = opt.num(p, 'points')!;
        for (let j = 1; j <= k; j++) {
          const row = await point('rate', lo + ((Math.max(hi, lo) - lo) * j) / (k + 1));
          if (row?.saturated && opt.bool(p, 'stop-on-saturation')) break;
        }
      } else {
        // bisection between the synchronous and the throughput rate; the SQL check says which points meet every SLO
        let a = lo;
        let b = Math.max(hi, lo);
        for (let s = 0; s < opt.num(p, 'search-steps')! && !signals.stopped; s++) {
          const mid = (a + b) / 2;
          const i = index;
          await point('rate', mid);
          const meets = (await slaAnswer(run.dir, group, slos)).find((x) => x.sweep_index === i)?.meets ?? false;
          if (meets) a = mid;
          else b = mid;
        }
        const ok = (await slaAnswer(run.dir, group, slos)).filter((x) => x.meets && x.offered_rate !== null);
        const best = ok.length ? Math.max(...ok.map((x) => x.offered_rate!)) : null;
        answer = best !== null ? `highest rate meeting ${slos.join(' and ')}: ${Number(best.toPrecision(4))} req/s` : `no tested rate meets ${slos.join(' and ')}`;
      }
    }
  } finally {
    signals.release();
    run.flush();
  }
  process.stdout.write(
    formatTable(
      ['point', 'mode', 'offered_rps', 'achieved_rps', 'success_pct', 'p50_ttft_ms', 'p99_ttft_ms', 'p50_latency_ms', 'saturated', 'status'],
      last.map((r) => [r.sweep_index, r.sweep_mode, round(r.offered_rate), round(r.achieved_rate), round(r.success_pct as number), round(r.p50_ttft_ms as number), round(r.p99_ttft_ms as number), round(r.p50_latency_ms as number), r.saturated, r.status]),
    ) + '\n',
  );
  const rec = last.filter((r) => r.status === 'OK' && r.sweep_mode === 'rate').map((r) => r.offered_rate!);
  if (answer) process.stdout.write(answer + '\n');
  else process.stdout.write(rec.length ? `highest OK rate: ${Number(Math.max(...rec).toPrecision(4))} req/s\n` : 'no constant-rate point is OK\n');
  const out = opt.str(p, 'out');
  if (out) {
    const lines = last.map((r) => JSON.stringify({ type: 'point', ...r }));
    if (out.endsWith('.csv')) {
      const cols = Object.keys(last[0] ?? {});
      writeFileAtomic(out, [cols.join(','), ...last.map((r) => cols.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c]))).join(','))].join('\n') + '\n');
    } else writeFileAtomic(out, lines.join('\n') + '\n');
  }
  run.finish(signals.stopped ? 'incomplete' : 'complete', signals.stopped ? 'stopped by a signal' : undefined);
  return signals.stopped ? ExitCode.failure : ExitCode.ok;
}

const fmt = (v: number | null) => (v === null || v === undefined ? 'n/a' : v.toFixed(2));
const round = (v: number | null) => (v === null || v === undefined ? null : Number(v.toPrecision(4)));
