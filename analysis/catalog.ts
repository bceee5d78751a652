// The DuckDB catalog over runs: one view per contract table (requests, chunks, gate_loads,
// scrapes, sim_intervals, sim_steps, runs) over finalized Parquet and over the raw JSONL of
// runs not yet finalized (each line checked first), so SQL reads archived and live runs alike.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { CliError } from '../core/errors.ts';
import { scanJsonl } from '../core/jsonl-reader.ts';
import { message } from '../core/messages.ts';
import { type TableDef, type TableName, tables } from '../core/schema.ts';
import { emptySelect, ident, objectSelect, sqlQuote } from './contract-sql.ts';
import { findRunDirs, isFinalized, orphanRunDirs, rawFiles, readManifest, writeCleanJsonl } from './runstore.ts';
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
  /** Folders the views read (the archive or the run folders, and the cleaned copies' folder): what lockDown allows. */
  readDirs: string[];
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
  /** Live runs' tables whose raw files `runs prune` removed: read from their Parquet too. */
  pruned?: Map<string, readonly string[]>;
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
    const withParquet = [...runs.finalized, ...runs.live.filter((d) => runs.pruned?.get(d)?.includes(t.name))];
    const parquet = withParquet.map((d) => path.join(d, `${t.name}.parquet`)).filter((f) => fs.existsSync(f));
    if (parquet.length) {
      parts.push(`SELECT ${selectList(t)} FROM read_parquet([${parquet.map(sqlQuote).join(', ')}], union_by_name = true, hive_partitioning = false)`);
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
    const orphans = orphanRunDirs(dataDir);
    if (orphans.length) {
      throw new CliError(`${orphans[0]}: run data without manifest.json${orphans.length > 1 ? ` (and ${orphans.length - 1} more folder(s))` : ''}: its records would be left out of every view`, 1, [
        'restore its manifest.json, or move the folder out of the archive',
        ...orphans.slice(1, 6),
      ]);
    }
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
  const archive = opts.runDirs ? runDirs : [path.resolve(opts.dataDir ?? process.env.SERVELAB_DATA ?? 'data')];
  const sources: [TableDef, string][] = [];
  try {
    const finalized = new Set(runDirs.filter((d) => isFinalized(d)));
    const live = runDirs.filter((d) => !finalized.has(d));
    const pruned = new Map(live.map((d) => [d, prunedTablesOf(d)] as const).filter(([, t]) => t.length > 0));
    const runs: RunSplit = { all: runDirs, finalized: [...finalized], live, pruned };
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
    readDirs: scratch ? [...archive, scratch] : archive,
    close() {
      conn.closeSync();
      instance.closeSync();
      removeScratch();
    },
  };
}

/**
 * Makes the catalog's connection read-only by construction, after its views exist: files are
 * reachable only under the folders the views read (and the given paths, e.g. an output's temp
 * file), every URL and every other path is refused, no extension is installed or loaded on
 * demand, and the configuration is locked so a query cannot SET it back. Writes inside the
 * archive still pass this, so `servelab sql` keeps its statement check as well.
 */
export async function lockDown(cat: Catalog, opts: { allowPaths?: string[] } = {}): Promise<void> {
  const dirs = cat.readDirs.map((d) => sqlQuote(path.resolve(d) + path.sep)).join(', ');
  const paths = (opts.allowPaths ?? []).map((f) => sqlQuote(path.resolve(f))).join(', ');
  for (const stmt of [
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    `SET allowed_directories = [${dirs}]`,
    `SET allowed_paths = [${paths}]`,
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ]) {
    await cat.conn.run(stmt);
  }
}

const READ_TYPES = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN]);
const READ_WORDS = new Set(['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', 'DESCRIBE', 'DESC', 'SHOW', 'SUMMARIZE', 'PIVOT', 'UNPIVOT', 'EXPLAIN']);

/**
 * The kind of the first statement in `sql` that is not a read (undefined when all are reads):
 * an EXPLAIN is judged by the statement it explains, since EXPLAIN ANALYZE runs it.
 */
export async function firstNonRead(conn: DuckDBConnection, sql: string): Promise<string | undefined> {
  const extracted = await conn.extractStatements(sql);
  const texts = splitStatements(sql);
  for (let i = 0; i < extracted.count; i++) {
    let type: number;
    try {
      type = (await extracted.prepare(i)).statementType;
    } catch (err) {
      // Binding failed (on a locked connection, a COPY to a path outside the archive does):
      // judge the statement by its first word, and let a read's own error through.
      const word = texts.length === extracted.count ? /^\s*([a-z]+)/i.exec(texts[i]!)?.[1]?.toUpperCase() : undefined;
      if (word && !READ_WORDS.has(word)) return word;
      const inner = word === 'EXPLAIN' ? explained(texts[i]!) : undefined;
      const kind = inner === undefined ? undefined : await firstNonRead(conn, inner);
      if (kind) return `EXPLAIN ${kind}`;
      throw err;
    }
    if (!READ_TYPES.has(type)) return StatementType[type] ?? String(type);
    if (type !== StatementType.EXPLAIN) continue;
    // The explained statement's text; when the split cannot be trusted, refuse rather than guess.
    const inner = texts.length === extracted.count ? explained(texts[i]!) : undefined;
    if (inner === undefined) return 'EXPLAIN';
    const kind = await firstNonRead(conn, inner);
    if (kind) return `EXPLAIN ${kind}`;
  }
  return undefined;
}

/** The statement an EXPLAIN [ANALYZE] [(options)] wraps, or undefined when that is not its shape. */
function explained(stmt: string): string | undefined {
  const m = /^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?:\([^)]*\)\s*)?([\s\S]+)$/i.exec(stripComments(stmt));
  return m?.[1];
}

/** Statement texts, split on semicolons outside quotes and comments; comments removed; empty ones dropped. */
export function splitStatements(sql: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      cur += sql.slice(i, stop);
      i = stop - 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end - 1;
      cur += ' ';
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
      cur += ' ';
    } else if (ch === ';') {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.filter((s) => s.trim() !== '');
}

const stripComments = (stmt: string) => splitStatements(stmt).join(';');

/** Tables of a run whose raw files were pruned (a resumed run reads their rows from Parquet). */
function prunedTablesOf(dir: string): string[] {
  try {
    const p = readManifest(dir).extra?.pruned;
    return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
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
