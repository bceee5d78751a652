// Real MoE load imbalance straight from gate-log directories, with the same SQL as the run
// stages (analysis/moe_cv*.sql) over a `gate_loads` view of the files: no run needed.
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../../analysis/catalog.ts';
import { loadStages, stageOrder } from '../../analysis/stages.ts';
import { gateLogFiles, loadGateLines } from './gatelogs.ts';

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
  warnings: string[];
}

/** Builds the named stages (and their dependencies) as temp tables in `conn`. */
export async function buildStagesInline(conn: DuckDBConnection, wanted: readonly string[]): Promise<void> {
  for (const stage of stageOrder(loadStages(), wanted)) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${stage.name} AS ${stage.sql}`);
  }
}

/**
 * CV of each gate-log directory. Every directory is one group named by its base name; the
 * files inside are its sources. Handles GBs: DuckDB reads the files in parallel.
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
    const { warnings } = await loadGateLines(conn, files, (f) => `${groupOf.get(f)}/${path.basename(f).replace(/\.jsonl?$/, '')}`);
    await conn.run(
      `CREATE OR REPLACE TEMP VIEW gate_loads AS
       SELECT 'cv' AS run, 0 AS shard, source, step, layer,
         unnest(range(len(expert_counts)))::INTEGER AS expert, unnest(expert_counts) AS tokens,
         num_tokens AS step_tokens, (t * 1e9)::BIGINT AS t_ns
       FROM gate_lines`,
    );
    await conn.run(`CREATE OR REPLACE TEMP VIEW runs AS SELECT 'cv' AS run, json_object('ep_size', ${Number(opts.epSize ?? 4)}) AS config`);
    await buildStagesInline(conn, ['moe_cv', 'moe_ep_rank_load']);
    const summaries = (await queryRows(conn, 'SELECT * EXCLUDE (run, backend, dataset) FROM moe_cv ORDER BY grp')) as unknown as CvSummary[];
    const experts = (await queryRows(
      conn,
      `SELECT CASE WHEN contains(source, '/') THEN regexp_replace(source, '/[^/]*$', '') ELSE source END AS grp, expert, sum(tokens)::BIGINT AS tokens
       FROM gate_loads WHERE step_tokens <= 1000 GROUP BY ALL ORDER BY grp, expert`,
    )) as CvResult['experts'];
    const ranks = (await queryRows(
      conn,
      'SELECT grp, ep_rank, rank_tokens, share, rank_cv_aggregated, rank_cv_per_step FROM moe_ep_rank_load ORDER BY grp, ep_rank',
    )) as CvResult['ranks'];
    return { summaries, experts, ranks, warnings };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export const cvOf = (s: CvSummary, method: CvMethod): number | null => (method === 'per-step' ? s.per_step_cv : s.aggregated_cv);

