// The load tester's printed summary, exactly as the old tool laid it out, from the rows of the
// loadtest_summary and loadtest_analysis stages (this file formats; SQL computes), and the
// results JSON (`results/test_run_TIMESTAMP.json`: config, summary text, details).
import path from 'node:path';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';

export interface SummaryRow {
  scenario: string;
  endpoint: string;
  total_requests: number;
  successful: number;
  failed: number;
  cancelled: number;
  duration_s: number;
  rps: number;
  tokens_per_s: number;
  latency_p50_s: number | null;
  latency_p90_s: number | null;
  latency_p99_s: number | null;
  ttft_p50_s: number | null;
  ttft_p90_s: number | null;
  ttft_p99_s: number | null;
  total_tokens: number;
}

const f3 = (v: number | null) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));
const s3 = (v: number | null) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(3)}s`);

/** Test Summary, Latency (s), TTFT (s), Automatic Analysis and (several servers) the Per-Endpoint Breakdown. */
export function summaryText(rows: SummaryRow[], analysisLines: string[], perEndpoint: boolean): string {
  const all = rows.find((r) => r.endpoint === '*');
  if (!all) return '=== Test Summary ===\nTotal Requests: 0\n';
  const out = [
    '=== Test Summary ===',
    `Total Requests: ${all.total_requests}`,
    `Successful: ${all.successful}`,
    `Failed: ${all.failed}`,
    `Duration: ${all.duration_s.toFixed(2)}s`,
    `RPS: ${all.rps.toFixed(2)}`,
    `Global Throughput: ${all.tokens_per_s.toFixed(2)} tokens/sec`,
    '',
    '=== Latency (s) ===',
    `P50: ${f3(all.latency_p50_s)}`,
    `P90: ${f3(all.latency_p90_s)}`,
    `P99: ${f3(all.latency_p99_s)}`,
    '',
    '=== TTFT (s) ===',
    `P50: ${f3(all.ttft_p50_s)}`,
    `P90: ${f3(all.ttft_p90_s)}`,
    `P99: ${f3(all.ttft_p99_s)}`,
    '',
    '=== Automatic Analysis ===',
    ...analysisLines,
  ];
  if (perEndpoint) {
    out.push('', '=== Per-Endpoint Breakdown ===');
    for (const r of rows.filter((x) => x.endpoint !== '*')) {
      out.push(
        '',
        `  ${r.endpoint}:`,
        `    Total Requests: ${r.total_requests}`,
        `    Successful: ${r.successful}`,
        `    Failed: ${r.failed}`,
        `    Latency P50/P90/P99: ${s3(r.latency_p50_s)} / ${s3(r.latency_p90_s)} / ${s3(r.latency_p99_s)}`,
        `    TTFT P50/P90/P99: ${s3(r.ttft_p50_s)} / ${s3(r.ttft_p90_s)} / ${s3(r.ttft_p99_s)}`,
        `    Total Tokens: ${r.total_tokens}`,
        `    Throughput: ${r.tokens_per_s.toFixed(2)} tokens/sec`,
      );
    }
  }
  return out.join('\n') + '\n';
}

/** `test_run_YYYYMMDD_HHMMSS.json` in local time, as the old tool named its results. */
export function resultsFileName(d = new Date()): string {
  const z = (n: number) => String(n).padStart(2, '0');
  return `test_run_${d.getFullYear()}${z(d.getMonth() + 1)}${z(d.getDate())}_${z(d.getHours())}${z(d.getMinutes())}${z(d.getSeconds())}.json`;
}

/** Writes the results JSON (atomically) and returns its path. */
export function writeResults(dir: string, config: unknown, summary: string, details: Record<string, unknown>[], extra: Record<string, unknown> = {}, now = new Date()): string {
  const file = path.join(dir, resultsFileName(now));
  writeFileAtomic(file, JSON.stringify({ config, summary, details, ...extra }, null, 2) + '\n');
  return file;
}
