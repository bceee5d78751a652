// The DuckDB catalog over runs: one view per contract table (requests, chunks, gate_loads,
// scrapes, sim_intervals, sim_steps, runs) over finalized Parquet and over the raw JSONL of
// runs not yet finalized (each line checked first), so SQL reads archived and live runs alike.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CliError } from '../core/errors.ts';
import { scanJsonl } from '../core/jsonl-reader.ts';
import { message } from '../core/messages.ts';
import { type TableDef, type TableName, tables } from '../core/schema.ts';
import { emptySelect, ident, objectSelect, sqlQuote } from './contract-sql.ts';
import { findRunDirs, isFinalized, rawFiles, writeCleanJsonl } from './runstore.ts';
import { catalogViews } from './views.ts';

export { isFinalized, sqlQuote };

export interface Catalog {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  /** The views created, by name: the contract tables, then the derived views (analysis/views/). */
  views: string[];
  /** Run folders found (absolute). */
  runDirs: string[];
  /** Warnings given while opening (lines skipped under `lenient`). */
  warnings: string[];
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
  /**
   * Skip and count malformed lines of unfinalized runs' raw JSONL (a warning names the file,
   * the count and the first problem) instead of failing with `file:line: field: problem`.
   * Such a file is read through a cleaned copy that close() removes (with dbFile, materialize
   * what you keep before closing).
   */
  lenient?: boolean;
  /** Where warnings go (default: stderr). */
  warn?: (line: string) => void;
}

/** The SELECT list that casts a source to the contract's columns in order. */
function selectList(t: TableDef): string {
  return Object.entries(t.fields)
    .map(([n, f]) => `CAST(${ident(n)} AS ${f.type}) AS ${ident(n)}`)
    .join(', ');
}

/** How the raw files of unfinalized runs are read: each line checked as finalize checks it. */
export interface RawCheck {
  lenient?: boolean;
  warn(line: string): void;
  /** A new file path for a cleaned copy (in a folder the catalog removes on close). */
  scratchFile(name: string): string;
}

/**
 * The files a view reads for raw JSONL: each file is checked line by line first, so a
 * malformed line in the middle fails with `file:line: field: problem` instead of vanishing
 * (a torn last line, a crashed writer's, is tolerated). Under `lenient`, a file with skipped
 * lines is read through a cleaned copy holding exactly the lines that passed, and a warning
 * gives the count and the first problem.
 */
export function checkedRawFiles(t: TableDef, files: readonly string[], check: RawCheck): string[] {
  return files.map((file) => {
    let scan;
    try {
      scan = scanJsonl(t, file, { lenient: check.lenient });
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      throw new CliError(err.message, err.exitCode, [
        'the run is not finalized, so its raw JSONL is read line by line: fix or remove that line,',
        'or pass --lenient to skip malformed lines (counted, and the first one named)',
      ]);
    }
    if (scan.skipped === 0) return file;
    check.warn(message.rawLinesSkipped(file, scan.skipped, scan.problems[0] ?? ''));
    const clean = check.scratchFile(path.basename(file));
    writeCleanJsonl(t, [file], clean, { lenient: true });
    return clean;
  });
}

/** Run folders, and which of them are finalized (Parquet) or live (raw JSONL): decided once per catalog. */
export interface RunSplit {
  all: string[];
  finalized: string[];
  live: string[];
}

/**
 * SQL that reads one table over the given runs: Parquet for finalized runs, raw JSONL (checked
 * by checkedRawFiles; unknown fields in extra) otherwise, and manifest.json for runs.
 */
export function tableSource(t: TableDef, runs: RunSplit, check: RawCheck): string | undefined {
  const parts: string[] = [];
  if (t.name === 'runs') {
    // The manifest is the run's live state (status may change after finalize).
    const manifests = runs.all.map((d) => path.join(d, 'manifest.json'));
    if (manifests.length) parts.push(objectSelect(t, manifests, { format: 'auto', check: false }));
  } else {
    const parquet = runs.finalized.map((d) => path.join(d, `${t.name}.parquet`)).filter((f) => fs.existsSync(f));
    if (parquet.length) {
      parts.push(`SELECT ${selectList(t)} FROM read_parquet([${parquet.map(sqlQuote).join(', ')}], union_by_name = true)`);
    }
    const raw = checkedRawFiles(
      t,
      runs.live.flatMap((d) => rawFiles(d, t)),
      check,
    );
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
  const warnings: string[] = [];
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  let scratch: string | undefined;
  let cleaned = 0;
  const check: RawCheck = {
    lenient: opts.lenient,
    warn: (line) => {
      warnings.push(line);
      warn(line);
    },
    scratchFile: (name) => {
      scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-catalog-'));
      return path.join(scratch, `${++cleaned}-${name}`);
    },
  };
  const removeScratch = () => scratch && fs.rmSync(scratch, { recursive: true, force: true });
  const sources: [TableDef, string][] = [];
  try {
    const finalized = new Set(runDirs.filter((d) => isFinalized(d)));
    const runs: RunSplit = { all: runDirs, finalized: [...finalized], live: runDirs.filter((d) => !finalized.has(d)) };
    for (const t of Object.values(tables) as TableDef[]) sources.push([t, tableSource(t, runs, check) ?? emptySelect(t)]);
  } catch (err) {
    removeScratch();
    throw err;
  }
  const instance = await DuckDBInstance.create(opts.dbFile ?? ':memory:');
  const conn = await instance.connect();
  const views: string[] = [];
  for (const [t, src] of sources) {
    await conn.run(`CREATE OR REPLACE VIEW ${t.name} AS ${src}`);
    views.push(t.name);
  }
  for (const v of catalogViews()) {
    await conn.run(`CREATE OR REPLACE VIEW ${v.name} AS\n${v.sql}`);
    views.push(v.name);
  }
  return {
    instance,
    conn,
    views,
    runDirs,
    warnings,
    close() {
      conn.closeSync();
      instance.closeSync();
      removeScratch();
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

/** JSON-safe cell values: BIGINT as a number when exact, else a string; dates as ISO text. */
export function jsSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsSafe);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsSafe(x)]));
  return v;
}

export type { TableName };
