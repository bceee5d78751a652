// The end-of-run text: vLLM's "Serving Benchmark Result" block, then failures by kind with
// timeouts and 503s reported apart as contention errors (the load tester's wording).
import { formatTable } from '../core/output.ts';
import type { Metric } from './bench.ts';

const NAMES: Record<Metric, [string, string]> = {
  ttft: ['Time to First Token', 'TTFT'],
  tpot: ['Time per Output Token (excl. 1st token)', 'TPOT'],
  itl: ['Inter-token Latency', 'ITL'],
  e2el: ['End-to-end Latency', 'E2EL'],
  client_queue_time: ['Client Queue Time', 'Queue'],
  e2el_including_client_queue: ['E2EL incl. Client Queue', 'E2EL+Q'],
};

export function summaryText(r: Record<string, unknown>, metrics: Metric[], percentiles: number[]): string {
  const L: string[] = [];
  const row = (label: string, v: unknown, digits = 2) =>
    L.push(`${label.padEnd(40)}${typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : String(v ?? 'n/a')}`);
  const head = (t: string, c = '-') => {
    const pad = Math.max(0, 50 - t.length - 2);
    L.push(`${c.repeat(Math.floor(pad / 2))} ${t} ${c.repeat(Math.ceil(pad / 2))}`);
  };
  head('Serving Benchmark Result', '=');
  row('Successful requests:', r.completed);
  row('Failed requests:', r.failed);
  if (r.max_concurrency != null) row('Maximum request concurrency:', r.max_concurrency);
  row('Benchmark duration (s):', r.duration);
  row('Total input tokens:', r.total_input_tokens);
  row('Total generated tokens:', r.total_output_tokens);
  row('Request throughput (req/s):', r.request_throughput);
  if (r.request_goodput != null) row('Request goodput (req/s):', r.request_goodput);
  row('Output token throughput (tok/s):', r.output_throughput);
  row('Total token throughput (tok/s):', r.total_token_throughput);
  row('Peak concurrent requests:', r.max_concurrent_requests);
  for (const m of metrics) {
    const [title, short] = NAMES[m];
    head(title);
    row(`Mean ${short} (ms):`, r[`mean_${m}_ms`]);
    row(`Median ${short} (ms):`, r[`median_${m}_ms`]);
    for (const p of percentiles) row(`P${p} ${short} (ms):`, r[`p${p}_${m}_ms`]);
  }
  if (r.median_server_ttft_ms != null) {
    // /generate reports its own ttft (from its arrival): without streaming the client's TTFT is the whole response
    head('Server-reported TTFT');
    row('Mean server TTFT (ms):', r.mean_server_ttft_ms);
    row('Median server TTFT (ms):', r.median_server_ttft_ms);
    row('P99 server TTFT (ms):', r.p99_server_ttft_ms);
  }
  L.push('='.repeat(50));
  const errors = (r.errors ?? {}) as Record<string, number>;
  // One row per failed request: HTTP errors appear once, split by status code, so the rows add
  // up to "Failed requests" (contention is a cross-cut, printed apart).
  const rows: [string, number][] = [];
  for (const [k, n] of Object.entries(errors)) {
    if (k === 'contention' || k === 'http_error') continue;
    rows.push([k.startsWith('http_') ? `http_error (HTTP ${k.slice(5)})` : k, n]);
  }
  const byCode = Object.entries(errors).filter(([k]) => k.startsWith('http_') && k !== 'http_error').reduce((a, [, n]) => a + n, 0);
  if ((errors.http_error ?? 0) > byCode) rows.push(['http_error (no status)', errors.http_error! - byCode]);
  if (rows.length) {
    L.push('', 'Errors by kind:');
    L.push(formatTable(['kind', 'requests'], rows));
    L.push(`Contention errors (timeouts + HTTP 503, counted above too): ${errors.contention ?? 0}`);
  }
  if (r.token_mismatches) L.push(`Output token count mismatches (client tokenizer vs server usage): ${r.token_mismatches}`);
  return L.join('\n');
}

export function printSummary(r: Record<string, unknown>, metrics: Metric[], percentiles: number[]): void {
  process.stdout.write(summaryText(r, metrics, percentiles) + '\n');
}
