// After a load: builds the loadtest_* stages over the run, formats the old summary from their rows
// and writes the results JSON (config, summary text, per-request details).
import path from 'node:path';
import { openCatalog, queryRows, sqlQuote } from '../../analysis/catalog.ts';
import { runStages } from '../../analysis/stages.ts';
import type { LoadtestConfig } from './config.ts';
import { type SummaryRow, summaryText, writeResults } from './output.ts';

export interface LoadReport {
  summary: string;
  resultsFile: string;
  total: number;
  successful: number;
  cancelled: number;
  rows: SummaryRow[];
  analysis: string[];
}

const STAGES = ['loadtest_summary', 'loadtest_analysis', 'loadtest_details'];

export async function readReport(runDir: string, scenario: string, cfg: LoadtestConfig, resultsDir: string, log: (line: string) => void = () => {}): Promise<LoadReport> {
  await runStages({ runDir, stages: STAGES, force: true, lenient: true, log });
  const derived = path.join(runDir, 'derived');
  const cat = await openCatalog({ runDirs: [runDir], lenient: true, warn: () => {} });
  try {
    const read = (stage: string, order: string) =>
      queryRows(cat.conn, `SELECT * FROM read_parquet(${sqlQuote(path.join(derived, `${stage}.parquet`))}) WHERE scenario = ${sqlQuote(scenario)} ORDER BY ${order}`);
    const rows = (await read('loadtest_summary', "endpoint <> '*', endpoint")) as unknown as SummaryRow[];
    const analysis = (await read('loadtest_analysis', 'idx')).map((r) => String(r.line));
    const details = (await read('loadtest_details', 'start_ts, request_id')).map(({ run: _r, scenario: _s, ...d }) => d);
    const summary = summaryText(rows, analysis, cfg.mixed && cfg.endpoints.length > 1);
    const resultsFile = writeResults(resultsDir, effectiveConfig(cfg), summary, details, { run_dir: runDir });
    const all = rows.find((r) => r.endpoint === '*');
    return { summary, resultsFile, total: all?.total_requests ?? 0, successful: all?.successful ?? 0, cancelled: all?.cancelled ?? 0, rows, analysis };
  } finally {
    cat.close();
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
