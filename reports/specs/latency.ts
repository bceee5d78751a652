// Vega-Lite spec builders of the latency report. Each reads long-form rows made by DuckDB from
// the latency stages (no statistics here) and is registered with sample rows in index.ts.
import type { TopLevelSpec } from 'vega-lite';
import type { DataRow } from '../html.ts';
import { DATA, SCHEMA } from './common.ts';

const WIDTH = 440;

/** Rows: {endpoint, metric (TTFT|TPOT|ITL|E2E), stat (p50|p90|p99), value_ms} from latency_summary. */
export function latencyPercentiles(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'p50, p90 and p99 of each latency metric, per endpoint',
    data: DATA,
    facet: { field: 'metric', type: 'nominal', title: null, sort: ['TTFT', 'TPOT', 'ITL', 'E2E'] },
    columns: 2,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 360,
      height: 180,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'endpoint', type: 'nominal', title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'stat', type: 'nominal', sort: ['p50', 'p90', 'p99'] },
        y: { field: 'value_ms', type: 'quantitative', title: 'ms' },
        color: { field: 'stat', type: 'nominal', sort: ['p50', 'p90', 'p99'], title: 'percentile', scale: { scheme: 'blues' } },
      },
    },
  };
}

/** Rows: {endpoint, metric, q (0–1), value_ms} from latency_quantiles: one CDF per endpoint and metric. */
export function latencyCdf(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'cumulative distribution of TTFT, TPOT, ITL and E2E per endpoint (101 quantiles, linear interpolation)',
    data: DATA,
    facet: { field: 'metric', type: 'nominal', title: null, sort: ['TTFT', 'TPOT', 'ITL', 'E2E'] },
    columns: 2,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 360,
      height: 200,
      mark: { type: 'line', interpolate: 'linear', tooltip: true },
      encoding: {
        x: { field: 'value_ms', type: 'quantitative', title: 'ms', scale: { zero: false } },
        y: { field: 'q', type: 'quantitative', title: 'fraction of requests ≤ x', axis: { format: '%' } },
        color: { field: 'endpoint', type: 'nominal', title: 'endpoint' },
      },
    },
  };
}

/** Rows: {endpoint, t_s, metric (TTFT|E2E), stat (p50|p99), value_ms} from latency_timeline. */
export function latencyOverTime(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'TTFT and E2E p50/p99 of the requests sent in each time bucket',
    data: DATA,
    facet: { row: { field: 'metric', type: 'nominal', title: null, sort: ['TTFT', 'E2E'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH * 2,
      height: 160,
      mark: { type: 'line', point: false, tooltip: true },
      encoding: {
        x: { field: 't_s', type: 'quantitative', title: 'seconds since run start (by send time)' },
        y: { field: 'value_ms', type: 'quantitative', title: 'ms' },
        color: { field: 'endpoint', type: 'nominal' },
        strokeDash: { field: 'stat', type: 'nominal', title: 'percentile', sort: ['p50', 'p99'] },
      },
    },
  };
}

/** Rows: {endpoint, t_s, measure, value} from latency_timeline (e.g. output tokens/s, completed requests/s). */
export function throughputOverTime(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'output tokens per second and completed requests per second, per endpoint',
    data: DATA,
    facet: { row: { field: 'measure', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: WIDTH * 2,
      height: 140,
      mark: { type: 'area', line: true, opacity: 0.6, tooltip: true },
      encoding: {
        x: { field: 't_s', type: 'quantitative', title: 'seconds since run start' },
        y: { field: 'value', type: 'quantitative', title: 'per second', stack: 'zero' },
        color: { field: 'endpoint', type: 'nominal' },
      },
    },
  };
}

/** Rows: {endpoint, t_s, stat (mean|max), send_lag_ms} from latency_timeline. */
export function sendLag(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'send lag (sent − scheduled): how late the client sent requests; large values mean the load generator fell behind',
    data: DATA,
    width: WIDTH * 2,
    height: 160,
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 't_s', type: 'quantitative', title: 'seconds since run start' },
      y: { field: 'send_lag_ms', type: 'quantitative', title: 'send lag (ms)' },
      color: { field: 'endpoint', type: 'nominal' },
      strokeDash: { field: 'stat', type: 'nominal', sort: ['mean', 'max'] },
    },
  };
}

// Sample rows for the registry: small, hand-written, shaped like the stage outputs.
const endpoints = ['llama-8b', 'qwen-32b'];
const metrics = ['TTFT', 'TPOT', 'ITL', 'E2E'];
const base: Record<string, number> = { TTFT: 50, TPOT: 12, ITL: 11, E2E: 480 };

export const samples: Record<string, () => DataRow[]> = {
  latencyPercentiles: () =>
    endpoints.flatMap((endpoint, e) =>
      metrics.flatMap((metric) => ['p50', 'p90', 'p99'].map((stat, s) => ({ endpoint, metric, stat, value_ms: base[metric]! * (1 + e) * (1 + s * 0.4) }))),
    ),
  latencyCdf: () =>
    endpoints.flatMap((endpoint, e) =>
      metrics.flatMap((metric) => Array.from({ length: 11 }, (_, i) => ({ endpoint, metric, q: i / 10, value_ms: base[metric]! * (1 + e) * (0.6 + i * 0.08) }))),
    ),
  latencyOverTime: () =>
    endpoints.flatMap((endpoint, e) =>
      ['TTFT', 'E2E'].flatMap((metric) =>
        ['p50', 'p99'].flatMap((stat, s) => Array.from({ length: 6 }, (_, t) => ({ endpoint, t_s: t, metric, stat, value_ms: base[metric]! * (1 + e) * (1 + s) + t }))),
      ),
    ),
  throughputOverTime: () =>
    endpoints.flatMap((endpoint, e) =>
      ['output tokens/s', 'completed requests/s'].flatMap((measure, m) => Array.from({ length: 6 }, (_, t) => ({ endpoint, t_s: t, measure, value: (m ? 2 : 60) * (1 + e) + t }))),
    ),
  sendLag: () =>
    endpoints.flatMap((endpoint) => ['mean', 'max'].flatMap((stat, s) => Array.from({ length: 6 }, (_, t) => ({ endpoint, t_s: t, stat, send_lag_ms: 0.1 + s * t * 0.5 })))),
};
