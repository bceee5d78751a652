// A report's window on its stage outputs: one in-memory DuckDB with a view per stage over its
// Parquet file, so each report reshapes with SQL and none repeats the open/view/close steps.
import { DuckDBInstance } from '@duckdb/node-api';
import { queryRows, sqlQuote } from '../analysis/catalog.ts';
import type { DataRow } from './html.ts';

export type StageQuery = (sql: string) => Promise<DataRow[]>;

/** Runs `fn` with a query function over views named after `stages` (paths in `outputs`), then closes the database. */
export async function withStageViews<T>(stages: readonly string[], outputs: Record<string, string>, fn: (q: StageQuery) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (const stage of stages) await conn.run(`CREATE VIEW ${stage} AS SELECT * FROM read_parquet(${sqlQuote(outputs[stage]!)}, hive_partitioning = false)`);
    return await fn((sql) => queryRows(conn, sql));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
