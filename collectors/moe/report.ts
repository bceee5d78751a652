// The MoE load-imbalance report of one experiment run: builds the moe_* stages, reshapes their
// outputs in DuckDB for the charts and tables (no statistics here) and renders report.html.
import fs from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { readManifest } from '../../analysis/runstore.ts';
import { runStages } from '../../analysis/stages.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { renderReport, type Column, type DataRow, type Report, type Section } from '../../reports/html.ts';
import * as specs from '../../reports/specs/moe.ts';
import { withStageViews } from '../../reports/stage-views.ts';
import { INDEX_FILE, type DatasetsIndex } from './datasets.ts';
import { PREDICTOR_FORMULA } from './predictor.ts';
import { readProgress } from './progress.ts';

export const MOE_STAGES = [
  'moe_bench',
  'moe_cv_per_step',
  'moe_cv',
  'moe_cv_by_layer',
  'moe_cv_timeline',
  'moe_ep_rank_load',
  'moe_expert_heat',
  'moe_imbalance_points',
  'moe_correlation',
  'moe_cv_prediction',
] as const;

/** Where the pipeline keeps the datasets it measured, inside the run. */
export const runDatasetsDir = (runDir: string) => path.join(runDir, 'raw', 'datasets');

const DEFINITIONS = [
  'Run layout: one run per pipeline invocation (data/runs/moe/<run-id>). Requests carry endpoint = backend (baseline, all2all) and dataset = {index:03}_{score:.4f}, with extra {backend, predicted_score, dataset_index, strategy}; each backend × dataset writes raw/requests-<shard>.jsonl. Gate logs are kept as the old scripts laid them out (raw/gate_logs/<backend>/gates_logs_<index>/gate_logs_*.jsonl) and ingested into gate_loads with source = <backend>/<dataset>/<file>. raw/datasets/ holds the datasets and their index.json; raw/moe_progress.jsonl says which datasets each backend measured (an interrupted run resumes from it).',
  'TTFT = first non-empty token − sent; TPOT = (last token − first token) / (output tokens − 1); ITL = gaps between chunks; E2E = last token − sent; throughput = output tokens / (last done − first scheduled) of the dataset. Means over the ok requests of a dataset (analysis/moe/bench.sql).',
  'Real imbalance (analysis/moe/cv*.sql): CV = population std / mean of expert loads. Per-step: CV of every engine step and MoE layer, then the mean (get_real_imbalance.py). Aggregated: loads summed over every step of at most 1000 tokens (larger steps are warm-up/profiling), then one CV, with the max/min ratio (new_real_imbalance.py).',
  `Predicted imbalance (ImbalancePredictor): ${PREDICTOR_FORMULA}.`,
  'Correlation (analysis/moe/correlation.sql): points outside 1.5×IQR of their backend and metric are left out; Pearson = corr(x, value); Spearman = corr of average ranks; the dashed line is the least-squares fit (regr_slope, regr_intercept).',
].join('\n\n');

const cols = (...keys: (string | [string, number])[]): Column[] => keys.map((k) => (Array.isArray(k) ? { key: k[0], digits: k[1] } : { key: k }));

export interface MoeReportResult {
  file: string;
  report: Report;
}

export async function buildMoeReport(runDir: string, opts: { out?: string; force?: boolean; log?: (l: string) => void; derived?: string } = {}): Promise<MoeReportResult> {
  const results = await runStages({ runDir, outDir: opts.derived, stages: [...MOE_STAGES], force: opts.force, log: opts.log ?? ((l) => process.stderr.write(`${l}\n`)) });
  const outputs = Object.fromEntries(results.map((r) => [r.stage, r.output]));
  const manifest = readManifest(runDir);
  return withStageViews(MOE_STAGES, outputs, async (q) => {
    const points = (x: string) =>
      q(`SELECT 'point' AS kind, backend, dataset, metric, ${x} AS x, value, outlier FROM moe_imbalance_points
         WHERE metric IN ('ttft', 'tpot', 'throughput') AND ${x} IS NOT NULL AND value IS NOT NULL
         UNION ALL
         SELECT 'fit', backend, NULL, metric, x_min, y_at_min, false FROM moe_correlation WHERE x = '${x}' AND metric IN ('ttft', 'tpot', 'throughput') AND n >= 2 AND y_at_min IS NOT NULL
         UNION ALL
         SELECT 'fit', backend, NULL, metric, x_max, y_at_max, false FROM moe_correlation WHERE x = '${x}' AND metric IN ('ttft', 'tpot', 'throughput') AND n >= 2 AND y_at_max IS NOT NULL`);
    const vsScore = await points('predicted_score');
    const vsCv = await points('real_cv');
    const correlation = await q(`SELECT backend, metric, x, n, pearson, spearman, slope, intercept, r2 FROM moe_correlation ORDER BY metric, x, backend`);
    const prediction = await q(`SELECT backend, cv, n, pearson, spearman, slope, intercept, r2, cv_min, cv_max FROM moe_cv_prediction ORDER BY cv, backend`);
    const predReal = await q(`SELECT b.backend, b.dataset, b.predicted_score, c.per_step_cv AS real_cv, c.aggregated_cv AS real_cv_aggregated
      FROM moe_bench b JOIN moe_cv c ON c.backend = b.backend AND c.dataset = b.dataset ORDER BY b.backend, b.dataset`);
    const cvTable = await q(`SELECT backend, dataset, per_step_cv, aggregated_cv, max_min_ratio, total_tokens, steps, warmup_steps, layers, experts FROM moe_cv ORDER BY backend, dataset`);
    const timeline = await q(`SELECT backend, split_part(grp, '/', 2) AS dataset, step, avg(cv) AS cv FROM moe_cv_timeline GROUP BY ALL ORDER BY backend, dataset, step`);
    const heat = await q(`WITH t AS (SELECT split_part(grp, '/', 1) AS backend, layer, expert, sum(tokens) AS tokens FROM moe_expert_heat GROUP BY ALL)
      SELECT backend, layer, expert, tokens::BIGINT AS tokens, tokens / nullif(avg(tokens) OVER (PARTITION BY backend, layer), 0) AS relative_load FROM t ORDER BY backend, layer, expert`);
    const ranks = await q(`WITH t AS (SELECT split_part(grp, '/', 1) AS backend, ep_rank, sum(rank_tokens) AS tokens FROM moe_ep_rank_load GROUP BY ALL)
      SELECT backend, ep_rank, tokens::BIGINT AS tokens, tokens / nullif(sum(tokens) OVER (PARTITION BY backend), 0) AS share FROM t ORDER BY backend, ep_rank`);
    const rankCv = await q(`SELECT split_part(grp, '/', 1) AS backend, split_part(grp, '/', 2) AS dataset, any_value(rank_cv_per_step) AS rank_cv_per_step, any_value(rank_cv_aggregated) AS rank_cv_aggregated FROM moe_ep_rank_load GROUP BY ALL ORDER BY 1, 2`);
    const bench = await q(`SELECT backend, dataset, predicted_score, completed, failed, duration_s, request_throughput, output_throughput, mean_ttft_ms, median_ttft_ms, p99_ttft_ms, mean_tpot_ms, p99_tpot_ms, mean_itl_ms, mean_e2e_ms FROM moe_bench ORDER BY backend, dataset`);
    const idxFile = path.join(runDatasetsDir(runDir), INDEX_FILE);
    const index = fs.existsSync(idxFile) ? (JSON.parse(fs.readFileSync(idxFile, 'utf8')) as DatasetsIndex) : null;
    const failedRows = [...readProgress(runDir).values()].filter((e) => e.status === 'failed').map((e) => ({ backend: e.backend, dataset: e.dataset, attempt: e.attempt, error: e.error }));

    const chart = (spec: TopLevelSpec, data: DataRow[], csvName: string) => ({ spec, data, csvName });
    const sections: Section[] = [{ title: 'What is measured', text: DEFINITIONS }];
    if ((manifest.config as { gates?: unknown } | null)?.gates === 'routed') {
      sections.push({
        title: 'Expert loads from routed_experts',
        text:
          "This run read each request's experts from its response (vLLM's --enable-return-routed-experts), so requests were not " +
          'streamed: TTFT and ITL are not measured (TTFT = end-to-end latency), and a "step" of the per-step CV is one request, ' +
          'not one engine step. The aggregated CV compares with server-side gate logs.',
      });
    }
    if (failedRows.length) sections.push({ title: 'Datasets whose benchmark failed', text: 'Marked in raw/moe_progress.jsonl; the others went on. Re-run the pipeline on this run to retry them.', table: { columns: cols('backend', 'dataset', 'attempt', 'error'), rows: failedRows } });
    sections.push(
      { title: 'Metrics vs predicted imbalance score', text: 'Baseline (Triton MoE, TP=4) beside DefaultAll2All (FlashInfer MoE, EP=4).', chart: chart(specs.metricVsImbalance('predicted imbalance score'), vsScore, 'metrics_vs_score') },
      { title: 'Metrics vs real imbalance (per-step CV)', chart: chart(specs.metricVsImbalance('real CV (per-step)'), vsCv, 'metrics_vs_real_cv') },
      { title: 'Correlation and fitted trend', table: { columns: cols('backend', 'metric', 'x', 'n', ['pearson', 3], ['spearman', 3], ['slope', 4], ['intercept', 3], ['r2', 3]), rows: correlation, csvName: 'moe_correlation' } },
      {
        title: 'Predicted score vs real CV',
        chart: chart(specs.predictedVsReal(), predReal, 'predicted_vs_real'),
        table: { columns: cols('backend', 'cv', 'n', ['pearson', 3], ['spearman', 3], ['slope', 4], ['intercept', 4], ['r2', 3], ['cv_min', 4], ['cv_max', 4]), rows: prediction, csvName: 'moe_cv_prediction' },
      },
      { title: 'Real imbalance per dataset', table: { columns: cols('backend', 'dataset', ['per_step_cv', 4], ['aggregated_cv', 4], ['max_min_ratio', 3], 'total_tokens', 'steps', 'warmup_steps', 'layers', 'experts'), rows: cvTable, csvName: 'moe_cv' } },
      { title: 'Per-step CV over time', chart: chart(specs.cvOverTime(), timeline, 'moe_cv_timeline') },
      { title: 'Expert heat map (layer × expert)', text: 'Tokens routed to each expert, summed over the datasets and over steps of at most 1000 tokens, relative to the layer mean.', chart: chart(specs.expertHeatmap(), heat, 'moe_expert_heat') },
      { title: 'EP-rank load', chart: chart(specs.epRankLoad(), ranks, 'moe_ep_rank_load'), table: { columns: cols('backend', 'dataset', ['rank_cv_per_step', 4], ['rank_cv_aggregated', 4]), rows: rankCv, csvName: 'moe_ep_rank_cv' } },
      { title: 'Benchmark per dataset', table: { columns: cols('backend', 'dataset', ['predicted_score', 4], 'completed', 'failed', ['duration_s', 2], ['request_throughput', 2], ['output_throughput', 1], ['mean_ttft_ms', 1], ['median_ttft_ms', 1], ['p99_ttft_ms', 1], ['mean_tpot_ms', 2], ['p99_tpot_ms', 2], ['mean_itl_ms', 2], ['mean_e2e_ms', 1]), rows: bench, csvName: 'moe_bench' } },
    );
    if (index) {
      const rows = index.datasets.map((d) => ({ index: d.index, score: d.score, strategy: d.strategy.kind }));
      sections.push({
        title: 'Datasets and their predicted imbalance',
        chart: chart(specs.scoreDistribution(), rows, 'score_distribution'),
        table: {
          columns: cols('file', 'strategy', ['score', 4], ['domain_concentration', 4], ['repetition', 4], ['vocab_overlap', 4], ['length_variance', 4], 'domains'),
          rows: index.datasets.map((d) => ({ file: d.file, strategy: d.strategy.kind, score: d.score, ...d.components })),
          csvName: 'datasets',
        },
      });
    }
    const report: Report = {
      title: 'MoE load imbalance: Baseline vs DefaultAll2All',
      subtitle: `${bench.length} backend × dataset benchmarks, ${cvTable.length} with gate logs`,
      facts: [
        ['run', manifest.run],
        ['status', manifest.status],
        ['servers', JSON.stringify(manifest.servers ?? null)],
        ['host', manifest.host],
        ['servelab', `${manifest.tool_version ?? ''} ${manifest.git_commit ?? ''}`.trim()],
      ],
      sections,
      footer: String(manifest.command ?? ''),
    };
    const file = path.resolve(opts.out ?? path.join(runDir, 'report.html'));
    writeFileAtomic(file, renderReport(report));
    return { file, report };
  });
}
