// Real MoE load imbalance straight from gate-log directories (no run needed), with the formulas
// of the run stages analysis/moe/cv.sql and moe/ep_rank_load.sql on the lines' count lists.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { queryRows } from '../../analysis/catalog.ts';
import { gateLogFiles, gateSourceName, loadGateLines } from './gatelogs.ts';

export const CV_METHODS = ['per-step', 'aggregated'] as const;
export type CvMethod = (typeof CV_METHODS)[number];
export const isCvMethod = (x: string): x is CvMethod => (CV_METHODS as readonly string[]).includes(x);

export interface CvSummary {
  grp: string;
  per_step_cv: number | null;
  aggregated_cv: number | null;
  max_min_ratio: number | null;
  total_tokens: number;
  max_expert_tokens: number;
  min_expert_tokens: number;
  mean_expert_tokens: number;
  steps: number;
  warmup_steps: number;
  layers: number;
  experts: number;
  files: number;
}

export interface CvResult {
  summaries: CvSummary[];
  /** Per-expert totals of the aggregated method, by group. */
  experts: { grp: string; expert: number; tokens: number }[];
  ranks: { grp: string; ep_rank: number; rank_tokens: number; share: number; rank_cv_aggregated: number | null; rank_cv_per_step: number | null }[];
  /** Both CVs of each MoE layer (the old scripts' per-layer view). */
  layers: { grp: string; layer: number; per_step_cv: number | null; aggregated_cv: number | null; max_min_ratio: number | null; steps: number }[];
  warnings: string[];
}

const CV_LINES_SQL = fs.readFileSync(fileURLToPath(new URL('./cv_lines.sql', import.meta.url)), 'utf8');

/** The statements of cv_lines.sql by their `-- @name` marker. */
function cvStatements(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of CV_LINES_SQL.split(/^-- @/m).slice(1)) {
    const nl = part.indexOf('\n');
    out[part.slice(0, nl).trim()] = part.slice(nl + 1).trim();
  }
  return out;
}

/**
 * CV of each gate-log directory. Every directory is one group named by its base name; the
 * files inside are its sources. Reads the lines once into DuckDB and computes on the count
 * lists (collectors/moe/cv_lines.sql), so 1 GB of logs takes seconds, not a row per expert.
 */
export async function computeCv(dirs: readonly string[], opts: { epSize?: number; threads?: number } = {}): Promise<CvResult> {
  const instance = await DuckDBInstance.create(':memory:', opts.threads ? { threads: String(opts.threads) } : undefined);
  const conn = await instance.connect();
  try {
    const files: string[] = [];
    const groupOf = new Map<string, string>();
    for (const d of dirs) {
      for (const f of gateLogFiles(d)) {
        files.push(f);
        groupOf.set(f, path.basename(path.resolve(d)));
      }
    }
    const { warnings } = await loadGateLines(conn, files, (f) => `${groupOf.get(f)}/${gateSourceName(f)}`);
    await conn.run(`SET VARIABLE ep_size = ${Math.max(1, Math.floor(opts.epSize ?? 4))}`);
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE gate_expert_totals AS
       SELECT grp, expert, sum(tokens) AS load FROM (
         SELECT grp, unnest(range(len(expert_counts)))::INTEGER AS expert, unnest(expert_counts) AS tokens FROM gate_lines WHERE num_tokens <= 1000
       ) GROUP BY grp, expert`,
    );
    const sql = cvStatements();
    const summaries = (await queryRows(conn, sql.summary!)) as unknown as CvSummary[];
    const experts = (await queryRows(conn, 'SELECT grp, expert, load::BIGINT AS tokens FROM gate_expert_totals ORDER BY grp, expert')) as CvResult['experts'];
    const ranks = (await queryRows(conn, sql.ranks!)) as CvResult['ranks'];
    const layers = (await queryRows(conn, sql.layers!)) as CvResult['layers'];
    return { summaries, experts, ranks, layers, warnings };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export const cvOf = (s: CvSummary, method: CvMethod): number | null => (method === 'per-step' ? s.per_step_cv : s.aggregated_cv);

