// The registry of every Vega-Lite spec builder with sample rows. test/reports/specs.test.ts
// compiles each one with zero warnings and draws it; add yours here (MoE, scheduling, …).
import type { TopLevelSpec } from 'vega-lite';
import type { DataRow } from '../html.ts';
import * as latency from './latency.ts';
import * as schedule from './schedule.ts';
import * as moe from './moe.ts';

export interface SpecEntry {
  /** Unique name, e.g. 'latency/cdf'. */
  name: string;
  /** What the chart shows and which rows it reads. */
  doc: string;
  build: () => TopLevelSpec;
  /** Small sample rows shaped like the real data. */
  sample: () => DataRow[];
}

export const specRegistry: SpecEntry[] = [
  { name: 'latency/percentiles', doc: 'p50/p90/p99 bars per endpoint and metric (latency_summary)', build: latency.latencyPercentiles, sample: latency.samples.latencyPercentiles! },
  { name: 'latency/cdf', doc: 'CDF of TTFT/TPOT/ITL/E2E per endpoint (latency_quantiles)', build: latency.latencyCdf, sample: latency.samples.latencyCdf! },
  { name: 'latency/over-time', doc: 'TTFT and E2E p50/p99 by send-time bucket (latency_timeline)', build: latency.latencyOverTime, sample: latency.samples.latencyOverTime! },
  { name: 'latency/throughput', doc: 'output tokens/s and completed requests/s over time (latency_timeline)', build: latency.throughputOverTime, sample: latency.samples.throughputOverTime! },
  { name: 'latency/send-lag', doc: 'send lag mean and max over time (latency_timeline)', build: latency.sendLag, sample: latency.samples.sendLag! },
  { name: 'schedule/comparison', doc: 'weighted/average waiting time and makespan per algorithm and workload (schedule_comparison, weight class all)', build: schedule.comparison, sample: schedule.samples.comparison! },
  { name: 'schedule/wait-by-class', doc: 'waiting time mean with p50–p90 per algorithm and weight class (schedule_comparison)', build: schedule.waitByClass, sample: schedule.samples.waitByClass! },
  { name: 'schedule/gantt', doc: 'busy intervals of each GPU group per algorithm (schedule_gantt)', build: schedule.gantt, sample: schedule.samples.gantt! },
  { name: 'schedule/queue-length', doc: 'tasks waiting over time per algorithm (schedule_queue)', build: schedule.queueLength, sample: schedule.samples.queueLength! },
  { name: 'moe/metric-vs-score', doc: 'TTFT, TPOT, throughput vs predicted imbalance score, Baseline beside All2All, with the fit (moe_imbalance_points, moe_correlation)', build: () => moe.metricVsImbalance(), sample: moe.samples.metricVsImbalance! },
  { name: 'moe/metric-vs-cv', doc: 'TTFT, TPOT, throughput vs real per-step CV, Baseline beside All2All, with the fit (moe_imbalance_points, moe_correlation)', build: () => moe.metricVsImbalance('real CV (per-step)'), sample: moe.samples.metricVsImbalance! },
  { name: 'moe/predicted-vs-real', doc: 'predicted score vs real per-step CV per backend (moe_cv)', build: moe.predictedVsReal, sample: moe.samples.predictedVsReal! },
  { name: 'moe/cv-over-time', doc: 'per-step CV over engine steps per dataset and backend (moe_cv_timeline)', build: moe.cvOverTime, sample: moe.samples.cvOverTime! },
  { name: 'moe/expert-heatmap', doc: 'layer × expert load relative to the layer mean per backend (moe_expert_heat)', build: moe.expertHeatmap, sample: moe.samples.expertHeatmap! },
  { name: 'moe/ep-rank-load', doc: 'share of tokens per EP rank per backend (moe_ep_rank_load)', build: moe.epRankLoad, sample: moe.samples.epRankLoad! },
  { name: 'moe/score-distribution', doc: 'predicted score histogram of the datasets by strategy (datasets index.json)', build: moe.scoreDistribution, sample: moe.samples.scoreDistribution! },
];
