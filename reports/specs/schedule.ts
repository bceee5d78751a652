// Vega-Lite spec builders of the scheduling report (pipelines/schedule.mjs). Each reads rows
// made by DuckDB from the schedule_* stages (no statistics here) and is registered in index.ts.
import type { TopLevelSpec } from 'vega-lite';
import type { DataRow } from '../html.ts';
import { DATA, SCHEMA } from './common.ts';

const ALGORITHMS = ['FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT'];

/** Rows: {workload, algorithm, measure ('weighted waiting s' | 'average waiting s' | 'makespan s'), value} from schedule_comparison (weight_class 'all'). */
export function comparison(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'the seed comparison: weighted waiting time, average waiting time and makespan per algorithm',
    data: DATA,
    facet: {
      row: { field: 'workload', type: 'nominal', title: null },
      column: { field: 'measure', type: 'nominal', title: null, sort: ['weighted waiting s', 'average waiting s', 'makespan s'] },
    },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 220,
      height: 110,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS, title: null },
        x: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS, legend: null },
      },
    },
  };
}

/** Rows: {workload, algorithm, weight_class, wait_s_mean, wait_s_p50, wait_s_p90} from schedule_comparison (per weight class). */
export function waitByClass(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'mean waiting time per algorithm and weight class, with the p50–p90 range',
    data: DATA,
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 200,
      layer: [
        {
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS, title: null, axis: { labelAngle: 0 } },
            xOffset: { field: 'weight_class', type: 'nominal' },
            y: { field: 'wait_s_mean', type: 'quantitative', title: 'waiting s' },
            color: { field: 'weight_class', type: 'nominal', title: 'weight' },
          },
        },
        {
          mark: { type: 'rule', color: 'black' },
          encoding: {
            x: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS },
            xOffset: { field: 'weight_class', type: 'nominal' },
            y: { field: 'wait_s_p50', type: 'quantitative' },
            y2: { field: 'wait_s_p90' },
          },
        },
      ],
    },
  };
}

/** Rows: {algorithm, resource, gpu_group, task_id, weight_class, start_s, end_s} from schedule_gantt (one workload and mode). */
export function gantt(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'which task each GPU group ran, when, per algorithm',
    data: DATA,
    facet: { row: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS, title: null } },
    spec: {
      width: 760,
      height: { step: 14 },
      mark: { type: 'bar', tooltip: true, stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        y: { field: 'resource', type: 'nominal', title: 'GPU group', sort: { field: 'gpu_group', op: 'min' } },
        x: { field: 'start_s', type: 'quantitative', title: 'simulated seconds' },
        x2: { field: 'end_s' },
        color: { field: 'weight_class', type: 'nominal', title: 'weight' },
        tooltip: [
          { field: 'task_id', type: 'nominal', title: 'task' },
          { field: 'resource', type: 'nominal', title: 'GPU group' },
          { field: 'start_s', type: 'quantitative', format: '.4f' },
          { field: 'end_s', type: 'quantitative', format: '.4f' },
        ],
      },
    },
  };
}

/** Rows: {workload, algorithm, t_s, waiting} from schedule_queue (one mode): a step function per algorithm. */
export function queueLength(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'tasks waiting in the queue over time, per algorithm',
    data: DATA,
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 340,
      height: 200,
      mark: { type: 'line', interpolate: 'step-after', tooltip: true },
      encoding: {
        x: { field: 't_s', type: 'quantitative', title: 'simulated seconds' },
        y: { field: 'waiting', type: 'quantitative', title: 'tasks waiting' },
        color: { field: 'algorithm', type: 'nominal', sort: ALGORITHMS },
      },
    },
  };
}

const algs = (f: (a: string, i: number) => DataRow[]) => ALGORITHMS.flatMap(f);

export const samples: Record<string, () => DataRow[]> = {
  comparison: () =>
    ['discriminating', 'staggered'].flatMap((workload) =>
      algs((algorithm, i) => [
        { workload, algorithm, measure: 'weighted waiting s', value: i === 0 ? 14.8 : 2.08 },
        { workload, algorithm, measure: 'average waiting s', value: i === 0 ? 0.074 : 0.032 },
        { workload, algorithm, measure: 'makespan s', value: 0.18 + i * 0.001 },
      ]),
    ),
  waitByClass: () =>
    algs((algorithm, i) =>
      ['w=1', 'w=10'].map((weight_class, k) => ({ workload: 'discriminating', algorithm, weight_class, wait_s_mean: 0.06 - k * 0.04 + i * 0.01, wait_s_p50: 0.05, wait_s_p90: 0.08 })),
    ),
  gantt: () =>
    algs((algorithm) =>
      [0, 1].flatMap((g) => [
        { algorithm, resource: `gpu${2 * g}-${2 * g + 1}`, gpu_group: g, task_id: `T_low_${g + 1}`, weight_class: 'w=1', start_s: 0, end_s: 0.104 },
        { algorithm, resource: `gpu${2 * g}-${2 * g + 1}`, gpu_group: g, task_id: `T_high_${g + 1}`, weight_class: 'w=10', start_s: 0.11, end_s: 0.141 },
      ]),
    ),
  queueLength: () =>
    algs((algorithm, i) =>
      [0, 0.104, 0.11, 0.15].map((t_s, k) => ({ workload: 'discriminating', algorithm, t_s, waiting: Math.max(0, 12 - 4 * k - i) })),
    ),
};
