// Reads a stage's Parquet output as plain rows for golden tests, in a throwaway in-memory DuckDB;
// BIGINT values come back from getRowObjectsJson as strings and are made numbers for snapshots.
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlQuote } from '../../analysis/catalog.ts';

export async function readParquet(file: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet(${sqlQuote(file)})`);
    return reader.getRowObjectsJson().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
