// The old probe's COMPARATIVE SUMMARY table, character for character (probe_arrival_rate.py):
// 80 '=' rules, right-aligned columns Rate | Success% | Tokens | TTFT Med | TTFT P99 | Lat Med | Status.
export interface ProbeRow {
  rate: number;
  success_pct: number | null;
  avg_prompt_tokens: number | null;
  p50_ttft_ms: number | null;
  p99_ttft_ms: number | null;
  p50_latency_ms: number | null;
  status: string;
}

const WIDTHS = [8, 8, 8, 10, 10, 10, 12] as const;
const HEADS = ['Rate', 'Success%', 'Tokens', 'TTFT Med', 'TTFT P99', 'Lat Med', 'Status'] as const;

const ms = (v: number | null) => (v === null || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(1)}ms`);

export function comparativeSummary(regime: string, rows: readonly ProbeRow[]): string {
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padStart(WIDTHS[i]!)).join(' | ');
  const rule = WIDTHS.map((w, i) => '-'.repeat(w + (i === 0 || i === WIDTHS.length - 1 ? 1 : 2))).join('+');
  return [
    '='.repeat(80),
    `COMPARATIVE SUMMARY (${regime} prompts)`,
    '='.repeat(80),
    line(HEADS),
    rule,
    ...rows.map((r) =>
      line([
        String(Number.isInteger(r.rate) ? r.rate.toFixed(1) : r.rate),
        r.success_pct === null ? 'n/a' : `${r.success_pct.toFixed(1)}%`,
        r.avg_prompt_tokens === null ? 'n/a' : String(Math.round(r.avg_prompt_tokens)),
        ms(r.p50_ttft_ms),
        ms(r.p99_ttft_ms),
        ms(r.p50_latency_ms),
        r.status,
      ]),
    ),
    '='.repeat(80),
  ].join('\n');
}
