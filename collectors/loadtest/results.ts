// After a load: builds the loadtest_* stages over the run, formats the old tool's printed summary
// from their rows and writes its results JSON (config, summary text, per-request details). The
// HTML report is the notebook reports/loadtest.md.
import path from 'node:path';
import { queryRows, sqlQuote } from '../../analysis/catalog.ts';
import { openDuckDB } from '../../analysis/runstore.ts';
import { runStages } from '../../analysis/stages.ts';
import type { LoadtestConfig } from './config.ts';
import { type SummaryRow, summaryText, writeResults } from './output.ts';

export interface LoadResults {
  summary: string;
  resultsFile: string;
  total: number;
  successful: number;
  cancelled: number;
  rows: SummaryRow[];
  analysis: string[];
}

const STAGES = ['loadtest_summary', 'loadtest_analysis', 'loadtest_details'];

export async function readResults(runDir: string, scenario: string, cfg: LoadtestConfig, resultsDir: string, log: (line: string) => void = () => {}): Promise<LoadResults> {
  await runStages({ runDir, stages: STAGES, force: true, lenient: true, log });
  const derived = path.join(runDir, 'derived');
  // The stage outputs alone: a plain connection (the catalog's views over the raw records were read by the stages).
  const db = await openDuckDB();
  try {
    const read = (stage: string, order: string) =>
      queryRows(db.conn, `SELECT * FROM read_parquet(${sqlQuote(path.join(derived, `${stage}.parquet`))}, hive_partitioning = false) WHERE scenario = ${sqlQuote(scenario)} ORDER BY ${order}`);
    const rows = (await read('loadtest_summary', "endpoint <> '*', endpoint")) as unknown as SummaryRow[];
    const analysis = (await read('loadtest_analysis', 'idx')).map((r) => String(r.line));
    const details = (await read('loadtest_details', 'start_ts, request_id')).map(({ run: _r, scenario: _s, ...d }) => d);
    const summary = summaryText(rows, analysis, cfg.mixed && cfg.endpoints.length > 1);
    const resultsFile = writeResults(resultsDir, effectiveConfig(cfg), summary, details, { run_dir: runDir });
    const all = rows.find((r) => r.endpoint === '*');
    return { summary, resultsFile, total: all?.total_requests ?? 0, successful: all?.successful ?? 0, cancelled: all?.cancelled ?? 0, rows, analysis };
  } finally {
    db.close();
  }
}

/** The config file as it ran: its own keys, with the command line's overrides (users, duration, URLs) in place. */
export function effectiveConfig(cfg: LoadtestConfig): Record<string, unknown> {
  const raw = cfg.raw;
  const w = cfg.workload;
  const out: Record<string, unknown> = {
    ...raw,
    workload: { ...(raw.workload as object), users: w.users, duration_seconds: w.durationS, ramp_up_seconds: w.rampUpS, seed: w.seed },
    prompts: { ...(raw.prompts as object), min_tokens: cfg.prompts.minTokens, max_tokens: cfg.prompts.maxTokens, prefix: cfg.prompts.prefix },
  };
  const url = (name: string, fallback: unknown) => {
    const e = cfg.endpoints.find((x) => x.name === name);
    return e ? e.baseUrl + e.path : fallback;
  };
  if (Array.isArray(raw.servers)) {
    out.servers = (raw.servers as Record<string, unknown>[]).filter((s) => cfg.endpoints.some((e) => e.name === s.name)).map((s) => ({ ...s, base_url: url(String(s.name), s.base_url) }));
  } else if (raw.server && cfg.endpoints[0]) {
    out.server = { ...(raw.server as object), base_url: cfg.endpoints[0].baseUrl + cfg.endpoints[0].path };
  }
  return out;
}
