// The DuckDB catalog over runs: one view per contract table (requests, chunks, gate_loads,
// scrapes, sim_intervals, sim_steps, runs) over finalized Parquet and over the raw JSONL of
// runs not yet finalized, so SQL reads archived and live runs alike.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CliError } from '../core/errors.ts';
import { message } from '../core/messages.ts';
import { type TableDef, type TableName, tables } from '../core/schema.ts';
import { emptySelect, ident, jsonColumns, objectSelect, sqlQuote } from './contract-sql.ts';
import { findRunDirs, isFinalized, rawFiles } from './runstore.ts';

export { findRunDirs, isFinalized, jsonColumns, sqlQuote };

export interface Catalog {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  /** The views created, by name. */
  views: string[];
  /** Run folders found (absolute). */
  runDirs: string[];
  close(): void;
}

export interface CatalogOptions {
  /** Archive root holding runs/<experiment>/<run>/ (default: data, or $SERVELAB_DATA). */
  dataDir?: string;
  /** Specific run folders instead of scanning an archive. */
  runDirs?: string[];
  /** A DuckDB database file to open instead of memory (the views are created in it). */
  dbFile?: string;
  readOnly?: boolean;
}

/** The SELECT list that casts a source to the contract's columns in order. */
function selectList(t: TableDef): string {
  return Object.entries(t.fields)
    .map(([n, f]) => `CAST(${ident(n)} AS ${f.type}) AS ${ident(n)}`)
    .join(', ');
}

/**
 * SQL that reads one table over the given runs: Parquet for finalized runs, raw JSONL (torn
 * and invalid lines left out, unknown fields in extra) otherwise, and manifest.json for runs.
 */
export function tableSource(t: TableDef, runDirs: string[]): string | undefined {
  const parts: string[] = [];
  if (t.name === 'runs') {
    // The manifest is the run's live state (status may change after finalize).
    const manifests = runDirs.map((d) => path.join(d, 'manifest.json'));
    if (manifests.length) parts.push(objectSelect(t, manifests, { format: 'auto', check: false }));
  } else {
    const done = runDirs.filter((d) => isFinalized(d));
    const parquet = done.map((d) => path.join(d, `${t.name}.parquet`)).filter((f) => fs.existsSync(f));
    if (parquet.length) {
      parts.push(`SELECT ${selectList(t)} FROM read_parquet([${parquet.map(sqlQuote).join(', ')}], union_by_name = true)`);
    }
    const raw = runDirs.filter((d) => !done.includes(d)).flatMap((d) => rawFiles(d, t));
    if (raw.length) parts.push(objectSelect(t, raw));
  }
  return parts.length ? parts.join('\nUNION ALL BY NAME\n') : undefined;
}

export async function openCatalog(opts: CatalogOptions = {}): Promise<Catalog> {
  let runDirs = opts.runDirs?.map((d) => path.resolve(d));
  if (!runDirs) {
    const dataDir = opts.dataDir ?? process.env.SERVELAB_DATA ?? 'data';
    if (!fs.existsSync(dataDir)) throw new CliError(message.noDataDir(dataDir));
    runDirs = findRunDirs(dataDir);
  }
  const instance = await DuckDBInstance.create(opts.dbFile ?? ':memory:');
  const conn = await instance.connect();
  const views: string[] = [];
  for (const t of Object.values(tables) as TableDef[]) {
    const src = tableSource(t, runDirs) ?? emptySelect(t);
    await conn.run(`CREATE OR REPLACE VIEW ${t.name} AS ${src}`);
    views.push(t.name);
  }
  return {
    instance,
    conn,
    views,
    runDirs,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs a query and returns JSON-safe rows (BIGINT as numbers when safe, else strings). */
export async function queryRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = jsSafe(v);
    return out;
  });
}

function jsSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsSafe);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsSafe(x)]));
  return v;
}

export type { TableName };
