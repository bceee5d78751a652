// Reads and finalizes run folders: finds runs in an archive, resolves what a user typed to
// one run, and turns raw JSONL into <run>/<table>.parquet with the contract's types, atomically.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { CliError, inputError, nearest } from '../core/errors.ts';
import { JsonlWriter, writeFileAtomic } from '../core/jsonl-writer.ts';
import { jsonlLines, noteLineBytes, readJsonl, scanJsonl, type ScanResult } from '../core/jsonl-reader.ts';
import { message } from '../core/messages.ts';
import { DEFAULT_DATA_DIR } from '../core/run.ts';
import { RUN_STATUS, type RunManifest, type TableDef, tables } from '../core/schema.ts';
import { objectSelect, sqlQuote, typedSelect } from './contract-sql.ts';

export const FINALIZED_MARKER = '.finalized';

export type Manifest = RunManifest & { extra?: Record<string, unknown> | null };

export interface RunInfo {
  dir: string;
  experiment: string;
  run: string;
  manifest: Manifest;
  finalized: boolean;
}

export const defaultDataDir = () => process.env.SERVELAB_DATA ?? DEFAULT_DATA_DIR;

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`${file}: missing: not a run folder (a run holds manifest.json and raw/)`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw inputError(file, undefined, 'expected a JSON object (the run manifest)');
  const o = m as Record<string, unknown>;
  if (!(RUN_STATUS as readonly unknown[]).includes(o.status)) {
    throw inputError(file, 'status', `${o.status === undefined ? 'missing' : `${JSON.stringify(o.status)} is not valid`}: one of ${RUN_STATUS.join(', ')}`);
  }
  for (const k of ['run', 'experiment'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw inputError(file, k, `expected a string, got ${JSON.stringify(o[k])}`);
  }
  return o as Manifest;
}

/**
 * Folders under the archive that hold run data (raw/ or table Parquet) but no manifest.json:
 * scanning skips them, so their records would vanish from every query without a word.
 */
export function orphanRunDirs(dataDir: string): string[] {
  const root = path.join(dataDir, 'runs');
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) return [];
  const out: string[] = [];
  for (const exp of fs.readdirSync(root, { withFileTypes: true })) {
    if (!exp.isDirectory() || exp.name.startsWith('.')) continue;
    for (const r of fs.readdirSync(path.join(root, exp.name), { withFileTypes: true })) {
      const dir = path.join(root, exp.name, r.name);
      if (!r.isDirectory() || r.name.startsWith('.') || fs.existsSync(path.join(dir, 'manifest.json'))) continue;
      if (fs.existsSync(path.join(dir, 'raw')) || fs.existsSync(path.join(dir, 'requests.parquet'))) out.push(dir);
    }
  }
  return out.sort();
}

/**
 * Finalized: the marker finalize writes last (a resumed run loses it). A run with
 * requests.parquet from elsewhere counts too, unless it is running or was resumed after
 * a finalize (its manifest remembers finalized_unix_ms while the marker is gone).
 */
export function isFinalized(dir: string, manifest?: Manifest): boolean {
  if (fs.existsSync(path.join(dir, FINALIZED_MARKER))) return true;
  if (!fs.existsSync(path.join(dir, 'requests.parquet'))) return false;
  try {
    const m = manifest ?? readManifest(dir);
    return m.status !== 'running' && m.extra?.finalized_unix_ms === undefined;
  } catch {
    return true;
  }
}

/** Every run folder (one holding manifest.json) under an archive root's runs/ (or the root itself). */
export function findRunDirs(dataDir: string): string[] {
  const root = [path.join(dataDir, 'runs'), dataDir].find((r) => fs.existsSync(r) && fs.statSync(r).isDirectory());
  if (!root) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (fs.existsSync(path.join(dir, 'manifest.json'))) {
      found.push(path.resolve(dir));
      return;
    }
    if (depth >= 3) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'raw' && e.name !== 'derived' && !e.name.startsWith('.')) walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return found.sort();
}

export function runInfo(dir: string): RunInfo {
  const manifest = readManifest(dir);
  return {
    dir,
    experiment: manifest.experiment ?? path.basename(path.dirname(dir)),
    run: manifest.run ?? path.basename(dir),
    manifest,
    finalized: isFinalized(dir, manifest),
  };
}

/** The runs of an archive; a missing data folder is an error, an empty one an empty list. */
export function listRuns(dataDir = defaultDataDir()): RunInfo[] {
  if (!fs.existsSync(dataDir)) throw new CliError(message.noDataDir(dataDir));
  return findRunDirs(dataDir).map(runInfo);
}

/**
 * A run folder path, a run id, or experiment/run-id → the run folder. Errors name what was
 * looked for, where, and the choices: close matches, else some runs of the archive.
 */
export function resolveRun(ref: string, dataDir = defaultDataDir()): string {
  if (fs.existsSync(path.join(ref, 'manifest.json'))) return path.resolve(ref);
  if (fs.existsSync(ref) && fs.statSync(ref).isDirectory()) {
    throw new CliError(`${ref}: not a run folder (no manifest.json)`, 1, [RUN_REF_HINT]);
  }
  const notFound = `run '${ref}' not found`;
  if (!fs.existsSync(dataDir)) throw new CliError(`${notFound}: ${message.noDataDir(dataDir)}`);
  const runs = findRunDirs(dataDir).map((dir) => ({ dir, name: `${path.basename(path.dirname(dir))}/${path.basename(dir)}`, id: path.basename(dir) }));
  if (runs.length === 0) throw new CliError(`${notFound}: ${message.emptyArchive(dataDir)}`);
  const want = ref.replace(/\/+$/, '');
  const hits = runs.filter((r) => r.name === want || r.id === want || r.name.endsWith(`/${want}`));
  if (hits.length === 1) return hits[0]!.dir;
  if (hits.length > 1) {
    throw new CliError(`run '${ref}' is ambiguous under ${dataDir}: name it as experiment/run-id`, 1, hits.map((h) => h.name));
  }
  throw new CliError(`${notFound} under ${dataDir}`, 1, [...closeMatches(want, runs.map((r) => r.name)), RUN_REF_HINT]);
}

const RUN_REF_HINT = 'give a run folder, a run id or experiment/run-id (servelab runs ls lists them), or --data DIR for another archive';

function closeMatches(want: string, names: string[]): string[] {
  const id = want.split('/').pop()!;
  const close = new Set<string>();
  for (const n of names) if (n.includes(id) || id.includes(n.split('/').pop()!)) close.add(n);
  const near = nearest(want, names) ?? nearest(id, names.map((n) => n.split('/').pop()!));
  if (near) close.add(names.find((n) => n === near || n.endsWith(`/${near}`))!);
  const list = [...close].slice(0, 5);
  if (list.length) return [`close matches: ${list.join(', ')}`];
  const some = names.slice(-5);
  return [`runs here: ${some.join(', ')}${names.length > some.length ? ` … (${names.length} in all; servelab runs ls)` : ''}`];
}

/** The raw files of a table in a run, non-empty, sorted. */
export function rawFiles(dir: string, t: TableDef): string[] {
  if (t.name === 'runs') return [];
  const folder = path.dirname(path.join(dir, t.raw));
  const re = new RegExp(`^${path.basename(t.raw).replace('.', '\\.').replace('*', '.*')}$`);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((f) => re.test(f))
    .map((f) => path.join(folder, f))
    .filter((f) => fs.statSync(f).size > 0)
    .sort();
}

export async function openDuckDB(): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection; close(): void }> {
  // A bounded memory limit keeps finalize's peak RSS predictable; DuckDB spills past it.
  const spill = path.join(os.tmpdir(), `servelab-duckdb-${process.pid}-${Date.now()}`);
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: process.env.SERVELAB_DUCKDB_MEMORY ?? '1GB', temp_directory: spill });
  const conn = await instance.connect();
  return {
    instance,
    conn,
    close() {
      conn.closeSync();
      instance.closeSync();
      fs.rmSync(spill, { recursive: true, force: true });
    },
  };
}

export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  try {
    fsyncFile(dir);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}

/**
 * COPY a SELECT to a Parquet file (no fsync, no rename); returns rows written. The query sits on
 * lines of its own, so one that ends in a `-- comment` does not swallow the closing parenthesis.
 */
async function copyTo(conn: DuckDBConnection, select: string, file: string): Promise<number> {
  const reader = await conn.runAndReadAll(`COPY (\n${select}\n) TO ${sqlQuote(file)} (FORMAT parquet, COMPRESSION zstd)`);
  return Number(reader.getRowObjectsJson()[0]?.Count ?? 0);
}

/** The temp file an atomic write of `file` goes through (same folder, so the rename is atomic). */
export const tempFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);

/** Puts a finished temp file in place: fsync, rename, fsync the folder. */
function commit(tmp: string, file: string): void {
  fsyncFile(tmp);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** COPY a SELECT to a Parquet file atomically (temp file, fsync, rename). Returns rows written. */
export async function copyToParquet(conn: DuckDBConnection, select: string, file: string): Promise<number> {
  const tmp = tempFor(file);
  try {
    const n = await copyTo(conn, select, tmp);
    commit(tmp, file);
    return n;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface TableResult {
  table: string;
  files: number;
  records: number;
  torn: { file: string; line: number }[];
  skipped: number;
  problems: string[];
  /** Which way the records went into DuckDB: typed columns, JSON objects, or a cleaned copy. */
  path: 'typed' | 'objects' | 'cleaned';
}

/** Whether the first lines of a file carry fields outside the contract (decides the bulk path). */
function looksExtra(t: TableDef, file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const lines = buf.toString('utf8', 0, n).split('\n').slice(0, -1).slice(0, 200);
    return lines.some((l) => {
      try {
        return Object.keys(JSON.parse(l) as object).some((k) => k === 'extra' || !(k in t.fields));
      } catch {
        return false;
      }
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Finalizes one table: DuckDB bulk-loads the raw files while the reader checks every line;
 * the parquet is kept only if both agree. Bad lines under `lenient` go through a cleaned copy.
 */
export async function finalizeTable(conn: DuckDBConnection, dir: string, t: TableDef, opts: { lenient?: boolean } = {}): Promise<TableResult | undefined> {
  const files = rawFiles(dir, t);
  if (files.length === 0) return undefined;
  const out = path.join(dir, `${t.name}.parquet`);
  const tmp = tempFor(out);
  let mode: TableResult['path'] = files.some((f) => looksExtra(t, f)) ? 'objects' : 'typed';
  const selectFor = (m: TableResult['path'], fs_: string[]) => (m === 'typed' ? typedSelect(t, fs_) : objectSelect(t, fs_));
  try {
    // The bulk load runs on DuckDB's threads while the line check below runs on this one; DuckDB
    // gets one core fewer meanwhile (on 2 cores: ~10% less CPU and ~40% less RSS than contending).
    await conn.run(`SET threads = ${Math.max(1, os.availableParallelism() - 1)}`);
    let scans: ScanResult[];
    let first: { n: number; error: unknown };
    try {
      const bulk = copyTo(conn, selectFor(mode, files), tmp).then(
        (n) => ({ n, error: undefined as unknown }),
        (error: unknown) => ({ n: -1, error }),
      );
      try {
        scans = files.map((f) => scanJsonl(t, f, opts));
      } catch (err) {
        conn.interrupt();
        await bulk;
        throw err;
      }
      first = await bulk;
    } finally {
      await conn.run('RESET threads');
    }
    const records = scans.reduce((a, s) => a + s.records, 0);
    const skipped = scans.reduce((a, s) => a + s.skipped, 0);
    let written = first.n;
    if (mode === 'typed' && scans.some((s) => s.withExtra > 0) && skipped === 0) {
      mode = 'objects';
      written = await copyTo(conn, selectFor(mode, files), tmp);
    }
    if (skipped > 0 || written !== records) {
      mode = 'cleaned';
      written = await copyCleaned(conn, dir, t, files, tmp, opts);
    }
    if (written !== records) {
      throw new CliError(`${t.name}: DuckDB read ${written} records but the line check found ${records}; nothing was written`, 1, files);
    }
    if (t.name === 'requests') await refuseDuplicateIds(conn, tmp, files);
    commit(tmp, out);
    return {
      table: t.name,
      files: files.length,
      records,
      torn: scans.filter((s) => s.tornLine !== null).map((s) => ({ file: path.relative(dir, s.file), line: s.tornLine! })),
      skipped,
      problems: scans.flatMap((s) => s.problems),
      path: mode,
    };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * One record per request: a request id seen twice (per shard) would count a request twice in
 * every statistic, so finalize stops and names both lines.
 */
async function refuseDuplicateIds(conn: DuckDBConnection, parquet: string, files: readonly string[]): Promise<void> {
  const r = await conn.runAndReadAll(
    `SELECT request_id, shard FROM read_parquet(${sqlQuote(parquet)}, hive_partitioning = false) WHERE request_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL LIMIT 1`,
  );
  if (r.currentRowCount === 0) return;
  const [id, shard] = r.getRowsJS()[0]! as [string, number];
  const at: string[] = [];
  const needle = `"request_id":${JSON.stringify(id)}`;
  for (const f of files) {
    for (const { text, line } of jsonlLines(f)) {
      if (text.includes(needle) || (text.includes(JSON.stringify(id)) && idOf(text) === id)) at.push(`${f}:${line}`);
      if (at.length >= 2) break;
    }
    if (at.length >= 2) break;
  }
  throw inputError(at[1] ?? files[0]!, 'request_id', `${JSON.stringify(id)} (shard ${shard}) appears again${at[0] ? ` (first at ${at[0]})` : ''}: one record per request; nothing was written`);
}

function idOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { request_id?: unknown }).request_id;
  } catch {
    return undefined;
  }
}

const prunedTables = (m: Manifest): string[] => (Array.isArray(m.extra?.pruned) ? (m.extra.pruned as string[]) : []);

/**
 * A table whose raw files `runs prune` removed: its Parquet holds those rows, so they are kept,
 * and raw lines written since (a resumed run) are added to them.
 */
async function finalizePruned(conn: DuckDBConnection, dir: string, t: TableDef, opts: { lenient?: boolean }): Promise<TableResult | undefined> {
  const out = path.join(dir, `${t.name}.parquet`);
  if (!fs.existsSync(out)) return finalizeTable(conn, dir, t, opts);
  const countOf = async (f: string) => Number((await conn.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${sqlQuote(f)}, hive_partitioning = false)`)).getRows()[0]![0]);
  if (rawFiles(dir, t).length === 0) {
    return { table: t.name, files: 0, records: await countOf(out), torn: [], skipped: 0, problems: [], path: 'typed' };
  }
  const base = path.join(dir, `.${t.name}.pruned-base.parquet`);
  fs.renameSync(out, base);
  try {
    const r = await finalizeTable(conn, dir, t, opts);
    const fresh = path.join(dir, `.${t.name}.fresh.parquet`);
    fs.renameSync(out, fresh);
    try {
      const n = await copyToParquet(conn, `SELECT * FROM read_parquet([${sqlQuote(base)}, ${sqlQuote(fresh)}], union_by_name = true, hive_partitioning = false)`, out);
      fs.rmSync(base, { force: true });
      return { ...r!, records: n };
    } finally {
      fs.rmSync(fresh, { force: true });
    }
  } catch (err) {
    if (!fs.existsSync(out) && fs.existsSync(base)) fs.renameSync(base, out);
    throw err;
  }
}

export interface PruneResult {
  removed: { file: string; bytes: number }[];
  /** Why nothing was pruned (not finalized, counts disagree). */
  skipped?: string;
}

/**
 * Removes raw JSONL files of a finalized run whose Parquet holds the same number of rows as
 * finalize recorded (gate loads, or every table with `all`), and notes the tables in the
 * manifest (extra.pruned) so a later finalize keeps their rows.
 */
export async function pruneRun(dir: string, opts: { all?: boolean; dryRun?: boolean } = {}): Promise<PruneResult> {
  const m = readManifest(dir);
  if (m.status === 'running' || !isFinalized(dir, m)) return { removed: [], skipped: 'not finalized (servelab runs finalize it first)' };
  const list = opts.all ? (Object.values(tables) as TableDef[]).filter((t) => t.name !== 'runs') : [tables.gate_loads as TableDef];
  const counts = (m.counts ?? {}) as Record<string, unknown>;
  const db = await openDuckDB();
  const removed: PruneResult['removed'] = [];
  const done: string[] = [];
  try {
    for (const t of list) {
      const files = rawFiles(dir, t);
      if (files.length === 0) continue;
      const pq = path.join(dir, `${t.name}.parquet`);
      if (!fs.existsSync(pq)) return { removed, skipped: `${t.name}.parquet is missing` };
      const n = Number((await db.conn.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${sqlQuote(pq)}, hive_partitioning = false)`)).getRows()[0]![0]);
      if (n !== counts[t.name]) return { removed, skipped: `${t.name}.parquet holds ${n} rows but finalize recorded ${String(counts[t.name])}` };
      for (const f of files) removed.push({ file: f, bytes: fs.statSync(f).size });
      done.push(t.name);
    }
  } finally {
    db.close();
  }
  if (opts.dryRun || done.length === 0) return { removed };
  const extra = { ...(m.extra ?? {}), pruned: [...new Set([...prunedTables(m), ...done])] };
  writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify({ ...m, extra }, null, 2) + '\n');
  for (const f of removed) fs.rmSync(f.file, { force: true });
  return { removed };
}

/** Writes the records that pass the contract's checks (unknown fields in `extra`) to one JSONL file. */
export function writeCleanJsonl(t: TableDef, files: readonly string[], out: string, opts: { lenient?: boolean } = {}): void {
  const w = new JsonlWriter(out, { flushMs: 60_000 });
  for (const f of files) {
    for (const rec of readJsonl(t, f, opts)) {
      const line = JSON.stringify(rec);
      if (line.length > 1 << 22) noteLineBytes(out, Buffer.byteLength(line)); // DuckDB must be told of long lines
      w.writeLine(`${line}\n`);
    }
  }
  w.close();
}

/** Writes the checked records to a temp JSONL and loads that. */
async function copyCleaned(conn: DuckDBConnection, dir: string, t: TableDef, files: string[], out: string, opts: { lenient?: boolean }): Promise<number> {
  const tmp = path.join(dir, `.${t.name}.clean-${process.pid}.jsonl`);
  try {
    writeCleanJsonl(t, files, tmp, opts);
    return await copyTo(conn, objectSelect(t, [tmp]), out);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface FinalizeOptions {
  lenient?: boolean;
  /** Finalize a run left `running` by a writer that died, marking it incomplete. */
  repair?: boolean;
}

export interface FinalizeResult {
  dir: string;
  run: string;
  status: RunManifest['status'];
  tables: TableResult[];
  warnings: string[];
}

/** The finalizer of a run: table by table (requests last), then manifest, runs.parquet and marker. */
export async function finalizeRun(dir: string, opts: FinalizeOptions = {}): Promise<FinalizeResult> {
  const manifest = readManifest(dir);
  const runId = manifest.run ?? path.basename(dir);
  if (manifest.status === 'running') {
    if (!opts.repair) throw new CliError(message.runStillRunning(runId));
    const pid = writerPid(manifest);
    if (pid !== undefined && manifest.host === os.hostname() && processAlive(pid)) {
      throw new CliError(message.writerAlive(runId, pid));
    }
  }
  const db = await openDuckDB();
  const results: TableResult[] = [];
  try {
    const order = (Object.values(tables) as TableDef[]).filter((t) => t.name !== 'runs' && t.name !== 'requests');
    const pruned = prunedTables(manifest);
    for (const t of [...order, tables.requests as TableDef]) {
      const r = pruned.includes(t.name) ? await finalizePruned(db.conn, dir, t, opts) : await finalizeTable(db.conn, dir, t, opts);
      if (r) results.push(r);
    }
    const warnings = results.flatMap((r) => [
      ...r.torn.map((x) => message.tornLastLine(x.file, x.line)),
      ...(r.skipped ? [message.skippedLines(r.table, r.skipped)] : []),
    ]);
    const status = manifest.status === 'running' ? 'incomplete' : manifest.status;
    const counts: Record<string, unknown> = { ...((manifest.counts as Record<string, unknown> | null) ?? {}) };
    for (const r of results) counts[r.table] = r.records;
    counts.torn_lines = results.reduce((a, r) => a + r.torn.length, 0);
    counts.skipped_lines = results.reduce((a, r) => a + r.skipped, 0);
    const patch: Partial<Manifest> = {
      status,
      counts,
      extra: {
        ...(manifest.extra ?? {}),
        finalized_unix_ms: Date.now(),
        ...(results.some((r) => r.torn.length) ? { torn: results.flatMap((r) => r.torn) } : {}),
      },
    };
    if (manifest.status === 'running') {
      patch.finished_unix_ms = lastWrite(dir) ?? Date.now();
      patch.error = manifest.error ?? 'the writer stopped before finishing; finalized by servelab runs repair';
    }
    const next = { ...manifest, ...patch };
    writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify(next, null, 2) + '\n');
    await copyToParquet(db.conn, objectSelect(tables.runs, [path.join(dir, 'manifest.json')], { format: 'auto', check: false }), path.join(dir, 'runs.parquet'));
    writeFileAtomic(path.join(dir, FINALIZED_MARKER), `${new Date().toISOString()}\n`);
    return { dir, run: runId, status, tables: results, warnings };
  } finally {
    db.close();
  }
}

function writerPid(m: Manifest): number | undefined {
  const pid = m.extra?.writer_pid;
  return typeof pid === 'number' ? pid : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When raw data was last written (the best guess of when a dead writer stopped). */
function lastWrite(dir: string): number | undefined {
  const raw = path.join(dir, 'raw');
  if (!fs.existsSync(raw)) return undefined;
  let latest: number | undefined;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else latest = Math.max(latest ?? 0, fs.statSync(p).mtimeMs);
    }
  };
  walk(raw);
  return latest;
}
