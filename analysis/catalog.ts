// The DuckDB catalog over runs: one view per contract table (requests, chunks, gate_loads,
// scrapes, sim_intervals, sim_steps, runs) over finalized Parquet and over the raw JSONL of
// runs not yet finalized, so SQL reads archived and live runs alike.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CliError } from '../core/errors.ts';
import { message } from '../core/messages.ts';
import { type TableDef, type TableName, tables } from '../core/schema.ts';

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

export const sqlQuote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** DuckDB column types for read_json, from the contract. */
export function jsonColumns(t: TableDef): string {
  return `{${Object.entries(t.fields)
    .map(([n, f]) => `${n}: ${sqlQuote(f.type)}`)
    .join(', ')}}`;
}

/** Every run folder (one holding manifest.json) under an archive root's runs/ (or the root itself). */
export function findRunDirs(dataDir: string): string[] {
  const roots = [path.join(dataDir, 'runs'), dataDir];
  const root = roots.find((r) => fs.existsSync(r) && fs.statSync(r).isDirectory());
  if (!root) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (fs.existsSync(path.join(dir, 'manifest.json'))) {
      found.push(path.resolve(dir));
      return;
    }
    if (depth >= 3) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'raw' && e.name !== 'derived') walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

/** Finalized runs have <table>.parquet beside the manifest; others are read from raw JSONL. */
export function isFinalized(runDir: string): boolean {
  return fs.existsSync(path.join(runDir, 'requests.parquet')) || fs.existsSync(path.join(runDir, '.finalized'));
}

function rawFiles(runDir: string, t: TableDef): string[] {
  if (t.name === 'runs') return [];
  const [dir, pattern] = [path.dirname(path.join(runDir, t.raw)), path.basename(t.raw)];
  if (!fs.existsSync(dir)) return [];
  const re = new RegExp(`^${pattern.replace('.', '\\.').replace('*', '.*')}$`);
  return fs
    .readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).size > 0);
}

/** The SELECT list that casts a source to the contract's columns in order. */
function selectList(t: TableDef): string {
  return Object.entries(t.fields)
    .map(([n, f]) => `CAST(${n} AS ${f.type}) AS ${n}`)
    .join(', ');
}

/** SQL that reads one table over the given runs: Parquet for finalized runs, JSONL otherwise. */
export function tableSource(t: TableDef, runDirs: string[]): string | undefined {
  const parts: string[] = [];
  const parquet = runDirs.filter(isFinalized).map((d) => path.join(d, `${t.name}.parquet`)).filter((f) => fs.existsSync(f));
  if (parquet.length) {
    parts.push(`SELECT ${selectList(t)} FROM read_parquet([${parquet.map(sqlQuote).join(', ')}], union_by_name = true)`);
  }
  if (t.name === 'runs') {
    const manifests = runDirs.filter((d) => !isFinalized(d) || !fs.existsSync(path.join(d, 'runs.parquet'))).map((d) => path.join(d, 'manifest.json'));
    if (manifests.length) {
      parts.push(
        `SELECT ${selectList(t)} FROM read_json([${manifests.map(sqlQuote).join(', ')}], format = 'auto', columns = ${jsonColumns(t)})`,
      );
    }
  } else {
    const raw = runDirs.filter((d) => !isFinalized(d)).flatMap((d) => rawFiles(d, t));
    if (raw.length) {
      parts.push(
        `SELECT ${selectList(t)} FROM read_json([${raw.map(sqlQuote).join(', ')}], format = 'newline_delimited', columns = ${jsonColumns(t)}, ignore_errors = true) WHERE run IS NOT NULL`,
      );
    }
  }
  return parts.length ? parts.join('\nUNION ALL BY NAME\n') : undefined;
}

/** An empty relation with the table's columns, so queries over an empty archive still bind. */
function emptySource(t: TableDef): string {
  return `SELECT ${Object.entries(t.fields)
    .map(([n, f]) => `CAST(NULL AS ${f.type}) AS ${n}`)
    .join(', ')} WHERE false`;
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
    const src = tableSource(t, runDirs) ?? emptySource(t);
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
