// The scheduling report of a `servelab simulate --run` run: reads the schedule_* stage outputs,
// reshapes them in DuckDB (improvements vs FIFO included) and lays out the sections.
import path from 'node:path';
import { sqlQuote } from '../analysis/catalog.ts';
import { readManifest, type Manifest } from '../analysis/runstore.ts';
import type { Column, DataRow, Report, Section } from './html.ts';
import * as specs from './specs/schedule.ts';
import { withStageViews } from './stage-views.ts';

/** The stages this report reads. */
export const SCHEDULE_STAGES = ['schedule_comparison', 'schedule_queue', 'schedule_gantt'] as const;
export type ScheduleStage = (typeof SCHEDULE_STAGES)[number];

const TABLE_COLUMNS: Column[] = [
  { key: 'mode' }, { key: 'workload' }, { key: 'algorithm' },
  { key: 'weighted_wait_s', label: 'Weighted Wait', digits: 3 },
  { key: 'wait_s_mean', label: 'Avg Wait', digits: 3 },
  { key: 'completed', label: 'Completed' }, { key: 'tasks', label: 'Total' },
  { key: 'makespan_s', label: 'Makespan', digits: 3 },
  { key: 'weighted_improvement_pct', label: 'weighted wait vs FIFO %', digits: 1 },
  { key: 'avg_improvement_pct', label: 'avg wait vs FIFO %', digits: 1 },
];

const CLASS_COLUMNS: Column[] = [
  { key: 'mode' }, { key: 'workload' }, { key: 'algorithm' }, { key: 'weight_class', label: 'weight' },
  { key: 'tasks' }, { key: 'completed' },
  { key: 'wait_s_mean', label: 'wait mean s', digits: 4 }, { key: 'wait_s_p50', label: 'p50', digits: 4 },
  { key: 'wait_s_p90', label: 'p90', digits: 4 }, { key: 'weighted_wait_s', label: 'Σ w·wait', digits: 3 },
];

const DEFINITIONS = [
  'Waiting time = task start − arrival; weighted waiting time = Σ weight·wait; average waiting time = its mean; makespan = the last completion; completed / total within --max-time. Improvement vs FIFO = (FIFO − algorithm) / FIFO.',
  'Discrete mode is the seed loop: every dt it completes finished tasks, queues arrivals, then while GPUs are free starts select_next(queue); starts fall on the dt grid, so each scheduling round can start up to one dt after the exact completion. Event mode runs the same orderings with exact times.',
  'Statistics computed by the SQL stages analysis/schedule/comparison.sql, queue.sql and gantt.sql (percentiles: linear interpolation).',
].join('\n\n');

export async function buildScheduleReport(runDir: string, outputs: Record<ScheduleStage, string>): Promise<Report> {
  const manifest = readManifest(runDir);
  return withStageViews(SCHEDULE_STAGES, outputs, async (q) => {
    const order = `CASE algorithm WHEN 'FIFO' THEN 0 WHEN 'WeightedFIFO' THEN 1 WHEN 'SRPT' THEN 2 WHEN 'WSRPT' THEN 3 ELSE 4 END`;
    const table = await q(`
      WITH a AS (SELECT * FROM schedule_comparison WHERE weight_class = 'all'),
      f AS (SELECT mode, workload, weighted_wait_s AS f_w, wait_s_mean AS f_a FROM a WHERE algorithm = 'FIFO')
      SELECT a.mode, a.workload, a.algorithm, a.weighted_wait_s, a.wait_s_mean, a.completed, a.tasks, a.makespan_s,
        CASE WHEN f.f_w > 0 THEN 100 * (f.f_w - a.weighted_wait_s) / f.f_w END AS weighted_improvement_pct,
        CASE WHEN f.f_a > 0 THEN 100 * (f.f_a - a.wait_s_mean) / f.f_a END AS avg_improvement_pct
      FROM a LEFT JOIN f USING (mode, workload)
      ORDER BY a.mode, a.workload, ${order.replaceAll('algorithm', 'a.algorithm')}`);
    const modes = [...new Set(table.map((r) => String(r.mode)))];
    const mode = modes.includes('discrete') ? 'discrete' : (modes[0] ?? 'discrete');
    const m = sqlQuote(mode);
    const comparison = await q(`
      SELECT workload, algorithm, measure, value FROM (UNPIVOT (
        SELECT workload, algorithm, weighted_wait_s AS "weighted waiting s", wait_s_mean AS "average waiting s", makespan_s AS "makespan s"
        FROM schedule_comparison WHERE weight_class = 'all' AND mode = ${m})
      ON "weighted waiting s", "average waiting s", "makespan s" INTO NAME measure VALUE value)
      ORDER BY workload, measure, algorithm`);
    const classes = await q(`SELECT * EXCLUDE (run) FROM schedule_comparison WHERE weight_class <> 'all' ORDER BY mode, workload, ${order}, weight_class`);
    const classChart = classes.filter((r) => r.mode === mode);
    const queue = await q(`SELECT workload, algorithm, t_s, waiting FROM schedule_queue WHERE mode = ${m} ORDER BY workload, algorithm, t_s`);
    const workloads = [...new Set(table.map((r) => String(r.workload)))];
    const gantts: Record<string, DataRow[]> = {};
    for (const w of workloads) {
      gantts[w] = await q(`SELECT algorithm, resource, gpu_group, task_id, weight_class, start_s, end_s FROM schedule_gantt WHERE mode = ${m} AND workload = ${sqlQuote(w)} ORDER BY ${order}, gpu_group, start_s`);
    }
    return layout(runDir, manifest, { table, mode, comparison, classes, classChart, queue, gantts });
  });
}

interface ReportData {
  table: DataRow[];
  mode: string;
  comparison: DataRow[];
  classes: DataRow[];
  classChart: DataRow[];
  queue: DataRow[];
  gantts: Record<string, DataRow[]>;
}

function layout(runDir: string, m: Manifest, d: ReportData): Report {
  const c = (m.config ?? {}) as Record<string, unknown>;
  const modeText = d.mode === 'discrete' ? `discrete-time, dt = ${String(c.dt ?? '?')} s` : 'event-driven';
  const sections: Section[] = [
    {
      title: 'Algorithm comparison',
      text: 'The seed table per workload and mode, with the improvement of each algorithm over FIFO.',
      table: { columns: TABLE_COLUMNS, rows: d.table, csvName: 'schedule_comparison' },
    },
    { title: `Waiting time and makespan (${modeText})`, chart: { spec: specs.comparison(), data: d.comparison, csvName: 'schedule_comparison_chart' } },
    {
      title: `Waiting time by weight class (${modeText})`,
      text: 'Bars: mean waiting time of each weight class; rules: its p50 to p90.',
      chart: { spec: specs.waitByClass(), data: d.classChart, csvName: 'schedule_wait_by_class' },
    },
    { title: 'Waiting time by weight class, every mode', table: { columns: CLASS_COLUMNS, rows: d.classes, csvName: 'schedule_wait_by_class_all' } },
    ...Object.entries(d.gantts).map(([w, rows]): Section => ({
      title: `GPU groups over time: ${w} (${modeText})`,
      text: 'Each bar is one task on one TP group, coloured by weight.',
      chart: { spec: specs.gantt(), data: rows, csvName: `schedule_gantt_${w}` },
    })),
    { title: `Queue length over time (${modeText})`, text: 'Tasks that have arrived and not started.', chart: { spec: specs.queueLength(), data: d.queue, csvName: 'schedule_queue' } },
    { title: 'Definitions', text: DEFINITIONS },
  ];
  return {
    title: `Scheduling report — ${m.run ?? path.basename(runDir)}`,
    subtitle: `${m.experiment ?? 'schedule'} · ${m.status ?? 'unknown status'}`,
    facts: [
      ['run folder', runDir],
      ['cluster', c.cluster],
      ['workload', c.workload],
      ['algorithms', Array.isArray(c.algorithms) ? c.algorithms.join(' ') : c.algorithms],
      ['dt', c.dt],
      ['max time', c['max-time']],
      ['mode', c.mode],
      ['command', m.command],
      ['servelab', [m.tool_version, m.git_commit?.slice(0, 12)].filter(Boolean).join(' ')],
    ],
    sections,
    footer: m.command ?? undefined,
  };
}
