// Vega-Lite spec builders of the MoE load-imbalance report (pipelines/moe.mjs). Each reads rows
// made by DuckDB from the moe_* stages (fits and CVs are computed there, not here).
import type { TopLevelSpec } from 'vega-lite';
import type { DataRow } from '../html.ts';
import { DATA, SCHEMA } from './common.ts';

const BACKENDS = ['baseline', 'all2all'];

/**
 * Rows: {kind: 'point'|'fit', backend, dataset, metric, x, value, outlier} — points from
 * moe_imbalance_points, two 'fit' rows per backend and metric from moe_correlation (x_min/x_max,
 * y_at_min/y_at_max). Metrics in rows, Baseline beside All2All in columns.
 */
export function metricVsImbalance(xTitle = 'predicted imbalance score'): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: `each metric against ${xTitle}, per backend, with the least-squares fit (1.5×IQR outliers faded and left out of the fit)`,
    data: DATA,
    facet: {
      row: { field: 'metric', type: 'nominal', title: null, sort: ['ttft', 'tpot', 'throughput'] },
      column: { field: 'backend', type: 'nominal', title: null, sort: BACKENDS },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 170,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'point'" }],
          mark: { type: 'point', tooltip: true, filled: true },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: false } },
            y: { field: 'value', type: 'quantitative', title: 'value', scale: { zero: false } },
            color: { field: 'backend', type: 'nominal', sort: BACKENDS, legend: null },
            opacity: { condition: { test: 'datum.outlier', value: 0.25 }, value: 0.9 },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'fit'" }],
          mark: { type: 'line', strokeDash: [4, 3], color: '#333' },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative' },
          },
        },
      ],
    },
  };
}

/** Rows: {backend, dataset, predicted_score, real_cv} from moe_cv joined to the datasets' scores. */
export function predictedVsReal(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'predicted imbalance score against the real per-step expert-load CV from the gate logs',
    data: DATA,
    width: 420,
    height: 260,
    mark: { type: 'point', filled: true, tooltip: true },
    encoding: {
      x: { field: 'predicted_score', type: 'quantitative', title: 'predicted imbalance score', scale: { zero: false } },
      y: { field: 'real_cv', type: 'quantitative', title: 'real CV (per-step)', scale: { zero: false } },
      color: { field: 'backend', type: 'nominal', sort: BACKENDS, title: 'backend' },
      shape: { field: 'backend', type: 'nominal', sort: BACKENDS, legend: null },
    },
  };
}

/** Rows: {backend, dataset, step, cv} from moe_cv_timeline (mean over layers of each step's CV). */
export function cvOverTime(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'per-step expert-load CV over the engine steps of each dataset, per backend',
    data: DATA,
    facet: { column: { field: 'backend', type: 'nominal', title: null, sort: BACKENDS } },
    spec: {
      width: 360,
      height: 200,
      mark: { type: 'line', opacity: 0.35, strokeWidth: 1, tooltip: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'engine step (within the dataset)' },
        y: { field: 'cv', type: 'quantitative', title: 'per-step CV (mean over layers)' },
        detail: { field: 'dataset', type: 'nominal' },
        color: { field: 'backend', type: 'nominal', sort: BACKENDS, legend: null },
      },
    },
  };
}

/** Rows: {backend, layer, expert, relative_load, tokens} from moe_expert_heat summed over datasets. */
export function expertHeatmap(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'tokens per expert and MoE layer relative to the layer mean (1 = even load)',
    data: DATA,
    facet: { column: { field: 'backend', type: 'nominal', title: null, sort: BACKENDS } },
    spec: {
      width: 260,
      height: { step: 9 },
      mark: { type: 'rect', tooltip: true },
      encoding: {
        x: { field: 'expert', type: 'ordinal', title: 'expert' },
        y: { field: 'layer', type: 'ordinal', title: 'MoE layer' },
        color: { field: 'relative_load', type: 'quantitative', title: 'load / layer mean', scale: { scheme: 'viridis' } },
      },
    },
  };
}

/** Rows: {backend, ep_rank, share} from moe_ep_rank_load summed over datasets. */
export function epRankLoad(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'share of routed tokens per expert-parallel rank (experts split contiguously)',
    data: DATA,
    width: 320,
    height: 160,
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'ep_rank', type: 'ordinal', title: 'EP rank', axis: { labelAngle: 0 } },
      xOffset: { field: 'backend', type: 'nominal', sort: BACKENDS },
      y: { field: 'share', type: 'quantitative', title: 'share of tokens', axis: { format: '%' } },
      color: { field: 'backend', type: 'nominal', sort: BACKENDS, title: 'backend' },
    },
  };
}

/** Rows: {index, score, strategy} from the datasets' index.json. */
export function scoreDistribution(): TopLevelSpec {
  return {
    $schema: SCHEMA,
    description: 'predicted imbalance score of the generated datasets, by strategy',
    data: DATA,
    width: 480,
    height: 200,
    mark: 'bar',
    encoding: {
      x: { field: 'score', type: 'quantitative', bin: { maxbins: 20 }, title: 'predicted imbalance score' },
      y: { aggregate: 'count', type: 'quantitative', title: 'datasets' },
      color: { field: 'strategy', type: 'nominal', title: 'strategy' },
    },
  };
}

const pts = (metric: string, backend: string, base: number): DataRow[] =>
  [0.1, 0.3, 0.5, 0.7].map((x, i) => ({ kind: 'point', backend, dataset: `00${i + 1}_${x.toFixed(4)}`, metric, x, value: base * (1 + x), outlier: i === 3 && metric === 'ttft' }));

export const samples: Record<string, () => DataRow[]> = {
  metricVsImbalance: () =>
    ['baseline', 'all2all'].flatMap((b) =>
      (['ttft', 'tpot', 'throughput'] as const).flatMap((m) => [
        ...pts(m, b, m === 'throughput' ? 700 : 20),
        { kind: 'fit', backend: b, metric: m, x: 0.1, value: 21 },
        { kind: 'fit', backend: b, metric: m, x: 0.7, value: 33 },
      ]),
    ),
  predictedVsReal: () => [
    { backend: 'baseline', dataset: '001_0.4463', predicted_score: 0.4463, real_cv: 0.62 },
    { backend: 'all2all', dataset: '001_0.4463', predicted_score: 0.4463, real_cv: 0.58 },
    { backend: 'baseline', dataset: '006_0.6987', predicted_score: 0.6987, real_cv: 0.54 },
  ],
  cvOverTime: () =>
    [0, 1, 2, 3].flatMap((step) => [
      { backend: 'baseline', dataset: '001_0.4463', step, cv: 0.5 + step / 20 },
      { backend: 'all2all', dataset: '001_0.4463', step, cv: 0.6 - step / 20 },
    ]),
  expertHeatmap: () =>
    [0, 1].flatMap((layer) => [0, 1, 2, 3].map((expert) => ({ backend: 'baseline', layer, expert, tokens: 10 + expert, relative_load: (10 + expert) / 11.5 }))),
  epRankLoad: () => [0, 1, 2, 3].flatMap((ep_rank) => BACKENDS.map((backend) => ({ backend, ep_rank, share: 0.25 + (ep_rank - 1.5) / 40 }))),
  scoreDistribution: () => [0.1, 0.2, 0.2, 0.45, 0.7].map((score, i) => ({ index: i + 1, score, strategy: i % 2 ? 'single_domain' : 'uniform_mix' })),
};
