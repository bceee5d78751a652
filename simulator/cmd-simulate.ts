// `servelab simulate`: the seed scheduling simulator with its flags, comparison table,
// improvement lines and results JSON; --mode event/both adds the exact-time run, --run records.
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../core/args.ts';
import { usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { createRun } from '../core/run.ts';
import { refuseExistingRun } from './run-guard.ts';
import { CLUSTER_NAMES, clusterGpus } from './sched/cluster.ts';
import { simulateDiscrete } from './sched/discrete.ts';
import { simulateEvents } from './sched/event.ts';
import { improvementLines, seedMetrics, type SeedMetrics } from './sched/metrics.ts';
import { SCHEDULERS, schedulerName } from './sched/orderings.ts';
import { writeSimulation, type SimMode } from './sched/records.ts';
import { WORKLOAD_CHOICES, WORKLOAD_DOCS, buildWorkload, workloadNames } from './sched/workloads.ts';
import type { SimResult } from './sched/task.ts';

const MODES = ['discrete', 'event', 'both'] as const;

export const spec: CommandSpec = {
  name: 'simulate',
  summary: 'Compare FIFO, WeightedFIFO, SRPT and WSRPT on prefill tasks over an H100 cluster (the seed scheduling simulator).',
  description:
    'Each dt the discrete-time loop completes finished tasks, queues arrivals, and while GPUs are free starts select_next(queue).\n' +
    '--mode event runs the same tasks and orderings event-driven with exact times; --mode both prints both and their largest per-task gap\n' +
    '(each scheduling round of the discrete loop starts up to one dt late, so a task lags by at most dt × the rounds before it).\n\n' +
    'Workloads:\n' +
    `  discriminating  ${WORKLOAD_DOCS.discriminating}\n` +
    `  staggered       ${WORKLOAD_DOCS.staggered}\n` +
    'Task durations are the cost model\'s prefill time on H100 for (model, tokens, TP), printed under each workload: they are why\n' +
    'the numbers differ from the old simulator\'s table. --task-seconds low=S,high=S gives the T_low_* and T_high_* tasks fixed durations.',
  options: {
    workload: { type: 'string', help: 'workload pattern', choices: WORKLOAD_CHOICES, default: 'both' },
    cluster: { type: 'string', help: 'cluster size', choices: CLUSTER_NAMES, default: 'h100_16gpu' },
    dt: { type: 'number', help: 'time step granularity, seconds (discrete mode)', default: 0.01, metavar: 'SECONDS' },
    'max-time': { type: 'number', help: 'maximum simulation duration, seconds', default: 5.0, metavar: 'SECONDS' },
    algorithms: { type: 'list', variadic: true, help: 'which schedulers to run, space-separated', choices: SCHEDULERS, default: SCHEDULERS, metavar: 'ALG [ALG...]' },
    output: { type: 'string', help: 'save results to this JSON file', metavar: 'FILE' },
    mode: { type: 'string', help: 'discrete-time (as the seed), event-driven, or both', choices: MODES, default: 'discrete' },
    preempt: { type: 'boolean', help: 'event mode: preempt a running task when a waiting one ranks ahead (preemptive SRPT/WSRPT)' },
    'task-seconds': { type: 'string', help: 'fixed task durations by class instead of the cost model, e.g. low=0.5,high=0.1', metavar: 'low=S,high=S' },
    run: { type: 'boolean', help: 'also record the simulation as a run (experiment schedule: requests, sim_intervals)' },
    data: { type: 'string', help: 'data folder for --run', default: 'data', metavar: 'DIR' },
    'run-id': { type: 'string', help: 'run id for --run (default: a new time-stamped id)', metavar: 'ID' },
  },
  examples: [
    'servelab simulate --workload discriminating --cluster h100_16gpu --dt 0.01 --max-time 5.0 --algorithms FIFO WeightedFIFO SRPT WSRPT --output results.json',
    'servelab simulate --workload both --mode both --run',
    'npx zx pipelines/schedule.mjs --workload both   (simulate, analyse, render report.html)',
  ],
};

const TASK_CLASSES = ['low', 'high'] as const;
type TaskClass = (typeof TASK_CLASSES)[number];
const taskClass = (id: string): TaskClass => (id.startsWith('T_low') ? 'low' : 'high');

/** --task-seconds low=S,high=S → seconds by class (each > 0). */
function taskSeconds(text: string | undefined): Partial<Record<TaskClass, number>> {
  if (text === undefined) return {};
  const out: Partial<Record<TaskClass, number>> = {};
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v] = part.split('=', 2).map((x) => x.trim());
    if (!(TASK_CLASSES as readonly string[]).includes(k ?? '')) throw usageError(`--task-seconds: '${k}' is not a task class: low or high (e.g. low=0.5,high=0.1)`);
    const n = Number(v);
    if (v === undefined || v === '' || !(n > 0) || n > 1e6) throw usageError(`--task-seconds: ${k}=${v ?? ''}: seconds must be a number above 0 (at most 1e6)`);
    out[k as TaskClass] = n;
  }
  if (Object.keys(out).length === 0) throw usageError('--task-seconds: expected low=S,high=S');
  return out;
}

/** Each task class's duration, and where it came from. */
function durationLine(tasks: readonly { id: string; tokens: number; tp: number; model: string; duration: number }[], given: Partial<Record<TaskClass, number>>): string {
  return TASK_CLASSES.flatMap((c) => {
    const t = tasks.find((x) => taskClass(x.id) === c);
    if (!t) return [];
    const from = given[c] !== undefined ? '--task-seconds' : `cost model: ${t.model} prefill of ${t.tokens} tokens on H100, TP=${t.tp}`;
    return [`${c} ${t.duration.toFixed(4)} s (${from})`];
  }).join('; ');
}

interface Entry extends SeedMetrics {
  workload: string;
  algorithm: string;
  mode: SimMode;
}

const RULE = '='.repeat(80);

export async function run(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const p = parseOrHelp(spec, argv, out);
  if (!p) return 0;
  const dt = opt.num(p, 'dt')!;
  const maxTime = opt.num(p, 'max-time')!;
  if (!(dt > 0) || !Number.isFinite(dt)) throw usageError(`--dt: must be a positive number of seconds (got ${dt}); the seed uses 0.01`);
  if (!(maxTime > 0)) throw usageError(`--max-time: must be a positive number of seconds (got ${maxTime})`);
  const cluster = opt.str(p, 'cluster')!;
  const gpus = clusterGpus(cluster);
  const algorithms = [...new Set(opt.list(p, 'algorithms').map(schedulerName))];
  const workloads = workloadNames(opt.str(p, 'workload')!);
  const modeFlag = opt.str(p, 'mode')!;
  const modes: SimMode[] = modeFlag === 'both' ? ['discrete', 'event'] : [modeFlag as SimMode];
  const preemptive = opt.bool(p, 'preempt');
  const given = taskSeconds(opt.str(p, 'task-seconds'));

  if (opt.str(p, 'run-id') !== undefined && !opt.bool(p, 'run')) throw usageError('--run-id: only used with --run (record the simulation as a run)');
  if (opt.bool(p, 'run')) refuseExistingRun({ runId: opt.str(p, 'run-id'), dataDir: opt.str(p, 'data'), experiment: 'schedule' });
  const record = opt.bool(p, 'run')
    ? createRun({ experiment: 'schedule', dataDir: opt.str(p, 'data'), runId: opt.str(p, 'run-id'), config: { ...p.opts }, command: `servelab simulate ${argv.join(' ')}` })
    : undefined;
  const entries: Entry[] = [];
  try {
    for (const workload of workloads) {
      const tasks = buildWorkload(workload).map((t) => (given[taskClass(t.id)] !== undefined ? { ...t, duration: given[taskClass(t.id)]! } : t));
      const tooWide = tasks.find((t) => t.tp > gpus);
      if (tooWide) throw usageError(`--cluster: ${cluster} has ${gpus} GPUs, task ${tooWide.id} needs TP=${tooWide.tp}`);
      out(RULE);
      out(`Workload: ${workload}`);
      out(RULE);
      out('');
      out(`Cluster: ${cluster} (${gpus} GPUs)`);
      out(`Tasks: ${tasks.length}`);
      out(`  - ${WORKLOAD_DOCS[workload]}`);
      out(`  - task durations: ${durationLine(tasks, given)}`);
      const results = new Map<SimMode, Map<string, SimResult>>();
      for (const mode of modes) {
        const byAlg = new Map<string, SimResult>();
        const metrics = new Map<string, SeedMetrics>();
        for (const algorithm of algorithms) {
          const r =
            mode === 'discrete'
              ? simulateDiscrete(tasks, { gpus, scheduler: algorithm, dt, maxTime })
              : simulateEvents(tasks, { gpus, scheduler: algorithm, maxTime, preemptive });
          byAlg.set(algorithm, r);
          const m = seedMetrics(r);
          metrics.set(algorithm, m);
          entries.push({ workload, algorithm, mode, ...m });
          if (record) writeSimulation(record, { workload, algorithm, mode, cluster }, r);
        }
        results.set(mode, byAlg);
        out('');
        out(RULE);
        out(`Algorithm Comparison Results${modes.length > 1 || mode !== 'discrete' ? ` (${mode === 'discrete' ? `discrete-time, dt=${dt} s` : `event-driven${preemptive ? ', preemptive' : ''}`})` : ''}`);
        out(RULE);
        out(`${'Algorithm'.padEnd(20)} ${'Weighted Wait'.padEnd(15)} ${'Avg Wait'.padEnd(15)} ${'Completed'.padEnd(10)} Makespan`);
        out('-'.repeat(80));
        for (const [alg, m] of metrics) {
          out(`${alg.padEnd(20)} ${m.weighted_waiting_time.toFixed(3).padEnd(15)} ${m.average_waiting_time.toFixed(3).padEnd(15)} ${String(m.completed).padEnd(10)} ${m.makespan.toFixed(3)}`);
        }
        for (const line of improvementLines(metrics)) out(line);
      }
      if (modes.length === 2) for (const line of ['', ...gapLines(results, algorithms, dt)]) out(line);
      out('');
    }
  } catch (err) {
    record?.finish('failed', err instanceof Error ? err.message : String(err));
    throw err;
  }
  const outputFile = opt.str(p, 'output');
  if (outputFile) {
    const results = entries.map((e) => {
      const { workload, algorithm, mode, weighted_waiting_time, average_waiting_time, makespan, completed, total } = e;
      const base = { workload, algorithm, weighted_waiting_time, average_waiting_time, makespan, completed, total };
      return modes.length > 1 || mode !== 'discrete' ? { ...base, mode } : base;
    });
    writeFileAtomic(path.resolve(outputFile), JSON.stringify({ results }, null, 2) + '\n');
    out(`Results saved to ${outputFile}`);
  }
  if (record) {
    record.finish('complete');
    out(`run: ${record.dir}`);
  }
  return 0;
}

function gapLines(results: Map<SimMode, Map<string, SimResult>>, algorithms: readonly string[], dt: number): string[] {
  const lines = ['Discrete-time vs event-driven, largest per-task gap (start, finish):'];
  for (const alg of algorithms) {
    const d = results.get('discrete')!.get(alg)!;
    const e = results.get('event')!.get(alg)!;
    let ds = 0;
    let df = 0;
    d.outcomes.forEach((o, i) => {
      const q = e.outcomes[i]!;
      if (o.start !== null && q.start !== null) ds = Math.max(ds, Math.abs(o.start - q.start));
      if (o.finish !== null && q.finish !== null) df = Math.max(df, Math.abs(o.finish - q.finish));
    });
    lines.push(`  ${alg.padEnd(14)} ${ds.toFixed(4)} s, ${df.toFixed(4)} s  (${(ds / dt).toFixed(2)} dt)`);
  }
  return lines;
}
