// The latency report of a run: reads the derived tables of the latency stages (latency_summary,
// latency_quantiles, latency_timeline), reshapes them in DuckDB, and lays out the sections.
import path from 'node:path';
import { sqlQuote } from '../analysis/catalog.ts';
import { readManifest, type Manifest } from '../analysis/runstore.ts';
import type { Column, DataRow, Report } from './html.ts';
import * as specs from './specs/latency.ts';
import { withStageViews } from './stage-views.ts';

/** The stages this report reads. */
export const LATENCY_STAGES = ['latency_summary', 'latency_quantiles', 'latency_timeline'] as const;
export type LatencyStage = (typeof LATENCY_STAGES)[number];

const SUMMARY_COLUMNS: Column[] = [
  { key: 'endpoint' }, { key: 'phase' },
  { key: 'requests' }, { key: 'ok' }, { key: 'failed' }, { key: 'timeouts' },
  { key: 'duration_s', label: 'duration s', digits: 1 },
  { key: 'request_throughput', label: 'req/s', digits: 2 },
  { key: 'output_throughput', label: 'out tok/s', digits: 1 },
  { key: 'ttft_ms_mean', label: 'TTFT mean', digits: 1 }, { key: 'ttft_ms_p50', label: 'TTFT p50', digits: 1 },
  { key: 'ttft_ms_p90', label: 'TTFT p90', digits: 1 }, { key: 'ttft_ms_p99', label: 'TTFT p99', digits: 1 },
  { key: 'tpot_ms_mean', label: 'TPOT mean', digits: 2 }, { key: 'tpot_ms_p50', label: 'TPOT p50', digits: 2 }, { key: 'tpot_ms_p99', label: 'TPOT p99', digits: 2 },
  { key: 'itl_ms_p50', label: 'ITL p50', digits: 2 }, { key: 'itl_ms_p99', label: 'ITL p99', digits: 2 },
  { key: 'e2e_ms_p50', label: 'E2E p50', digits: 0 }, { key: 'e2e_ms_p99', label: 'E2E p99', digits: 0 },
  { key: 'send_lag_ms_p99', label: 'send lag p99', digits: 2 }, { key: 'send_lag_ms_max', label: 'send lag max', digits: 2 },
];

const GLOSSARY = [
  'TTFT = first non-empty content token − sent (vLLM\'s client counts the role-only chat chunk instead). TPOT = (last token − first token) / (output tokens − 1), called ITL by GuideLLM and AIPerf. ITL = gaps between consecutive streamed chunks (vLLM "ITL", AIPerf "ICL"). E2E = last token − sent. Send lag = sent − scheduled; user-visible latency = last token − scheduled.',
  'Latencies count ok requests only. All times in milliseconds. Percentiles use linear interpolation (numpy default, DuckDB quantile_cont); std is the population standard deviation. Computed by the SQL stages in analysis/.',
].join('\n\n');

/** Builds the report from the stage outputs (paths by stage name) of one run. */
export async function buildLatencyReport(runDir: string, outputs: Record<LatencyStage, string>): Promise<Report> {
  const manifest = readManifest(runDir);
  return withStageViews(LATENCY_STAGES, outputs, async (q) => {
    const summary = await q('SELECT * FROM latency_summary ORDER BY endpoint, phase');
    const phases = [...new Set(summary.map((r) => String(r.phase)))];
    // Charts of distributions show one phase: main when there is one (warm-up would blur it).
    const phase = phases.includes('main') ? 'main' : (phases[0] ?? 'main');
    const percentiles = await q(`
      SELECT endpoint, upper(split_part(k, '_', 1)) AS metric, split_part(k, '_', 3) AS stat, value_ms
      FROM (UNPIVOT (SELECT endpoint, ttft_ms_p50, ttft_ms_p90, ttft_ms_p99, tpot_ms_p50, tpot_ms_p90, tpot_ms_p99,
                            itl_ms_p50, itl_ms_p90, itl_ms_p99, e2e_ms_p50, e2e_ms_p90, e2e_ms_p99
                     FROM latency_summary WHERE phase = ${sqlQuote(phase)})
            ON COLUMNS(* EXCLUDE (endpoint)) INTO NAME k VALUE value_ms)
      ORDER BY endpoint, metric, stat`);
    const cdf = await q(`SELECT endpoint, upper(metric) AS metric, q, value_ms FROM latency_quantiles WHERE phase = ${sqlQuote(phase)} ORDER BY endpoint, metric, q`);
    const overTime = await q(`
      SELECT endpoint, t_s, upper(split_part(k, '_', 1)) AS metric, split_part(k, '_', 3) AS stat, value_ms
      FROM (UNPIVOT (SELECT endpoint, t_s, ttft_ms_p50, ttft_ms_p99, e2e_ms_p50, e2e_ms_p99 FROM latency_timeline)
            ON ttft_ms_p50, ttft_ms_p99, e2e_ms_p50, e2e_ms_p99 INTO NAME k VALUE value_ms)
      ORDER BY endpoint, metric, stat, t_s`);
    const [{ chunk_tokens } = { chunk_tokens: 0 }] = await q('SELECT coalesce(sum(chunk_tokens_per_s), 0) AS chunk_tokens FROM latency_timeline');
    // Tokens over time from chunk arrivals when the run streamed, else from request completions.
    const tokenCol = Number(chunk_tokens) > 0 ? 'chunk_tokens_per_s' : 'output_tokens_per_s';
    const throughput = await q(`
      SELECT endpoint, t_s, CASE k WHEN 'completed_per_s' THEN 'completed requests/s' ELSE 'output tokens/s' END AS measure, value
      FROM (UNPIVOT (SELECT endpoint, t_s, ${tokenCol}, completed_per_s FROM latency_timeline)
            ON ${tokenCol}, completed_per_s INTO NAME k VALUE value)
      ORDER BY endpoint, measure, t_s`);
    const lag = await q(`
      SELECT endpoint, t_s, replace(k, 'send_lag_ms_', '') AS stat, send_lag_ms
      FROM (UNPIVOT (SELECT endpoint, t_s, send_lag_ms_mean, send_lag_ms_max FROM latency_timeline)
            ON send_lag_ms_mean, send_lag_ms_max INTO NAME k VALUE send_lag_ms)
      ORDER BY endpoint, stat, t_s`);
    const [bucket] = await q('SELECT max(bucket_s) AS bucket_s FROM latency_timeline');
    return layout(runDir, manifest, { summary, phase, percentiles, cdf, overTime, throughput, lag, bucketS: Number(bucket?.bucket_s ?? 1), tokensFromChunks: tokenCol === 'chunk_tokens_per_s' });
  });
}

interface ReportData {
  summary: DataRow[];
  phase: string;
  percentiles: DataRow[];
  cdf: DataRow[];
  overTime: DataRow[];
  throughput: DataRow[];
  lag: DataRow[];
  bucketS: number;
  tokensFromChunks: boolean;
}

function layout(runDir: string, m: Manifest, d: ReportData): Report {
  const started = m.started_unix_ms ? new Date(m.started_unix_ms).toISOString() : undefined;
  const wall = m.started_unix_ms && m.finished_unix_ms ? `${((m.finished_unix_ms - m.started_unix_ms) / 1000).toFixed(1)} s` : undefined;
  const bucket = `Buckets of ${d.bucketS} s, all phases.`;
  return {
    title: `Latency report — ${m.run ?? path.basename(runDir)}`,
    subtitle: `${m.experiment ?? 'run'} · ${m.status ?? 'unknown status'}${started ? ` · started ${started}` : ''}`,
    facts: [
      ['run folder', runDir],
      ['experiment', m.experiment],
      ['status', m.status],
      ['started', started],
      ['wall time', wall],
      ['host', m.host],
      ['command', m.command],
      ['servelab', [m.tool_version, m.git_commit?.slice(0, 12)].filter(Boolean).join(' ')],
    ],
    sections: [
      {
        title: 'Summary per endpoint and phase',
        text:
          d.summary.length === 0
            ? 'This run has no request records yet (raw/requests*.jsonl is empty or missing), so the tables and charts below are empty.'
            : 'Requests, failures, throughput and latency (ms) of each endpoint and phase. Throughput = ok requests (or their output tokens) / the phase\'s span from first send to last completion.',
        table: { columns: SUMMARY_COLUMNS, rows: d.summary, csvName: 'latency_summary' },
      },
      { title: `Latency percentiles (${d.phase} phase)`, text: 'p50, p90 and p99 of each metric per endpoint, from the summary above.', chart: { spec: specs.latencyPercentiles(), data: d.percentiles, csvName: 'latency_percentiles' } },
      { title: `Latency distributions (${d.phase} phase)`, text: 'Cumulative distribution of each metric: the fraction of requests at or below each latency (101 quantiles).', chart: { spec: specs.latencyCdf(), data: d.cdf, csvName: 'latency_quantiles' } },
      { title: 'Latency over time', text: `TTFT and E2E p50 (solid) and p99 (dashed) of the requests sent in each bucket. ${bucket}`, chart: { spec: specs.latencyOverTime(), data: d.overTime, csvName: 'latency_over_time' } },
      {
        title: 'Throughput over time',
        text: `Output tokens per second (${d.tokensFromChunks ? 'from chunk arrivals' : 'counted at request completion'}) and completed requests per second, stacked by endpoint. ${bucket}`,
        chart: { spec: specs.throughputOverTime(), data: d.throughput, csvName: 'throughput_over_time' },
      },
      {
        title: 'Send lag',
        text: `Send lag = sent − scheduled, mean and max per bucket. It measures the load generator, not the server: when it grows, the client fell behind its schedule and the offered load was lower than planned. ${bucket}`,
        chart: { spec: specs.sendLag(), data: d.lag, csvName: 'send_lag' },
      },
      { title: 'Definitions', text: GLOSSARY },
    ],
    footer: `Made by servelab report from ${LATENCY_STAGES.map((s) => `derived/${s}.parquet`).join(', ')}.`,
  };
}
