// Gate-log files (gate_logs_<replica>.jsonl, one line per engine step and MoE layer) read into
// DuckDB: discovery, the torn-last-line rule, and `file:line: field: problem` for bad lines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CliError, errorMessage, inputError } from '../../core/errors.ts';
import { message } from '../../core/messages.ts';
import { sqlQuote } from '../../analysis/catalog.ts';

export const GATE_FILE_RE = /^gate_logs_.*\.jsonl?(\.gz)?$/;

/** A gate-log file's name without .jsonl/.json/.gz: the source name it is ingested under. */
export const gateSourceName = (file: string) => path.basename(file).replace(/\.jsonl?(\.gz)?$/, '');

/** A gate-log file's text (gunzipped when it ends in .gz). */
function readGateText(file: string): string {
  const buf = fs.readFileSync(file);
  return (file.endsWith('.gz') ? zlib.gunzipSync(buf) : buf).toString('utf8');
}

/**
 * Gzips each plain gate_logs_* file of a folder in place (file.gz written, fsynced, then the
 * original removed): the raw copy kept after ingest takes a fraction of the disk. DuckDB and
 * every reader here read .gz as they read plain files.
 */
export function compressGateLogs(dir: string): number {
  let n = 0;
  for (const f of fs.readdirSync(dir)) {
    if (!GATE_FILE_RE.test(f) || f.endsWith('.gz')) continue;
    const src = path.join(dir, f);
    const tmp = path.join(dir, `.${f}.gz.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, zlib.gzipSync(fs.readFileSync(src), { level: 6 }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, `${src}.gz`);
    fs.rmSync(src);
    n++;
  }
  return n;
}

/** The gate_logs_* files of one directory, sorted; a clear error when there are none. */
export function gateLogFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${dir}: not a directory of gate logs`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => GATE_FILE_RE.test(f))
    .sort()
    .map((f) => path.join(dir, f));
  if (files.length === 0) {
    throw new CliError(`${dir}: no gate_logs_*.jsonl or gate_logs_*.json files here`, undefined, [
      'gate logs come from the server (sim serve --gate-log-dir DIR, or the vLLM instrumentation)',
    ]);
  }
  const nonEmpty = files.filter((f) => fs.statSync(f).size > 0);
  if (nonEmpty.length === 0) throw new CliError(`${dir}: every gate_logs_* file is empty (did the server route any tokens?)`);
  return nonEmpty;
}

/** Subdirectories holding gate logs (gates_logs_01, …), sorted by name. */
export function gateLogDirs(folder: string): string[] {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new CliError(`${folder}: not a directory`);
  const dirs = fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.readdirSync(path.join(folder, e.name)).some((f) => GATE_FILE_RE.test(f)))
    .map((e) => path.join(folder, e.name))
    .sort();
  if (dirs.length === 0) throw new CliError(`${folder}: no subdirectories with gate_logs_* files (expected gates_logs_01/, gates_logs_02/, …)`);
  return dirs;
}

/** Checks one parsed line; returns [field, problem] or null. */
export function checkGateLine(obj: unknown): [string | undefined, string] | null {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [undefined, 'expected a JSON object'];
  const o = obj as Record<string, unknown>;
  for (const k of ['step', 'layer', 'num_tokens'] as const) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 0) return [k, `expected a whole number ≥ 0, got ${JSON.stringify(o[k])}`];
  }
  const c = o.expert_counts;
  if (!Array.isArray(c) || c.length === 0) return ['expert_counts', 'expected a non-empty list of token counts'];
  const bad = c.findIndex((x) => !Number.isInteger(x) || x < 0);
  if (bad >= 0) return ['expert_counts', `item ${bad}: expected a whole number ≥ 0, got ${JSON.stringify(c[bad])}`];
  return null;
}

/** The expert count of a line, for the one-count-per-run check (undefined when the line is not a gate line). */
const expertsOf = (obj: unknown): number | undefined => {
  const c = (obj as { expert_counts?: unknown } | null)?.expert_counts;
  return Array.isArray(c) ? c.length : undefined;
};

/**
 * Scans a file line by line for the first bad line (used to explain a failed DuckDB read);
 * `experts` holds the expert count seen first (with where), so a line with another count is named.
 */
export function findBadLine(file: string, experts: { n?: number; where?: string } = {}): CliError | null {
  const mixed = (where: string, obj: unknown): CliError | null => {
    const n = expertsOf(obj);
    if (n === undefined) return null;
    if (experts.n === undefined) {
      experts.n = n;
      experts.where = where;
      return null;
    }
    return n === experts.n
      ? null
      : inputError(where, 'expert_counts', `${n} experts, but ${experts.where} has ${experts.n}: one run's gate logs must come from one model (give each model its own run)`);
  };
  const text = readGateText(file);
  const lines = text.split('\n');
  if (/\.json(\.gz)?$/.test(file) && text.trimStart().startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (err) {
      return inputError(file, undefined, `not valid JSON (${errorMessage(err)})`);
    }
    for (const [i, obj] of (arr as unknown[]).entries()) {
      const p = checkGateLine(obj);
      if (p) return inputError(`${file}[${i}]`, p[0], p[1]);
      const m = mixed(`${file}[${i}]`, obj);
      if (m) return m;
    }
    return null;
  }
  // A torn last line (no final newline) is skipped by the reader, so it is not the culprit.
  const last = text.endsWith('\n') ? lines.length : lines.length - 1;
  for (let i = 0; i < last; i++) {
    if (lines[i]!.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(lines[i]!);
    } catch (err) {
      return inputError(`${file}:${i + 1}`, undefined, `not valid JSON (${errorMessage(err)})`);
    }
    const p = checkGateLine(obj);
    if (p) return inputError(`${file}:${i + 1}`, p[0], p[1]);
    const m = mixed(`${file}:${i + 1}`, obj);
    if (m) return m;
  }
  return null;
}

export interface PreparedFiles {
  /** Files to read (a temporary cut copy for a torn file). */
  files: string[];
  /** The original file of each entry of `files`. */
  originals: string[];
  /** Warnings (torn last lines). */
  warnings: string[];
  cleanup(): void;
}

/**
 * A torn last line (no final newline, not valid JSON) is skipped with a warning: the file is
 * read through a temporary copy cut at its last newline. Other files are read in place.
 */
export function prepareFiles(files: readonly string[]): PreparedFiles {
  const out: string[] = [];
  const originals: string[] = [];
  const warnings: string[] = [];
  const temps: string[] = [];
  for (const f of files) {
    // a .gz file is written whole (compressGateLogs), so it has no torn tail to cut
    const torn = f.endsWith('.gz') ? null : tornTail(f);
    if (!torn) {
      out.push(f);
      originals.push(f);
      continue;
    }
    warnings.push(message.tornLastLine(f, torn.line));
    if (torn.keepBytes === 0) continue;
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-gates-')), path.basename(f));
    fs.copyFileSync(f, tmp);
    fs.truncateSync(tmp, torn.keepBytes);
    temps.push(path.dirname(tmp));
    out.push(tmp);
    originals.push(f);
  }
  return {
    files: out,
    originals,
    warnings,
    cleanup: () => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })),
  };
}

function tornTail(file: string): { keepBytes: number; line: number } | null {
  const size = fs.statSync(file).size;
  if (size === 0) return null;
  const fd = fs.openSync(file, 'r');
  try {
    const n = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(n);
    fs.readSync(fd, buf, 0, n, size - n);
    if (buf[n - 1] === 0x0a) return null;
    const nl = buf.lastIndexOf(0x0a);
    const last = buf.subarray(nl + 1).toString('utf8');
    try {
      JSON.parse(last);
      return null;
    } catch {
      /* torn */
    }
    const keepBytes = nl >= 0 ? size - n + nl + 1 : 0;
    return { keepBytes, line: countLines(file, keepBytes) + 1 };
  } finally {
    fs.closeSync(fd);
  }
}

function countLines(file: string, bytes: number): number {
  if (bytes === 0) return 0;
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let lines = 0;
  try {
    for (let pos = 0; pos < bytes; ) {
      const got = fs.readSync(fd, buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (got <= 0) break;
      for (let i = 0; i < got; i++) if (buf[i] === 0x0a) lines++;
      pos += got;
    }
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}

// Read as DOUBLE and checked before the cast: a BIGINT column would round 0.5 and 2.7 silently.
export const GATE_COLUMNS = `{step: 'DOUBLE', layer: 'DOUBLE', num_tokens: 'DOUBLE', expert_counts: 'DOUBLE[]', rank: 'INTEGER', t: 'DOUBLE'}`;

/** SQL reading gate-log files as lines (one row per file line, with its file name). */
export function gateLinesSql(files: readonly string[]): string {
  const ndjson = files.filter((f) => /\.jsonl(\.gz)?$/.test(f));
  const json = files.filter((f) => !/\.jsonl(\.gz)?$/.test(f));
  const parts: string[] = [];
  const read = (fs_: readonly string[], format: string) =>
    `SELECT filename, step, layer, num_tokens, expert_counts, rank, t FROM read_json([${fs_.map(sqlQuote).join(', ')}], format = '${format}', columns = ${GATE_COLUMNS}, filename = true, hive_partitioning = false)`;
  if (ndjson.length) parts.push(read(ndjson, 'newline_delimited'));
  if (json.length) parts.push(read(json, 'auto'));
  return parts.join('\nUNION ALL\n');
}

/**
 * Loads the files into a temp table `gate_lines` (grp, source, step, layer, num_tokens,
 * expert_counts, t); grp = source up to its last '/'. `sourceOf` names the source of each (original) file.
 */
export async function loadGateLines(
  conn: DuckDBConnection,
  files: readonly string[],
  sourceOf: (file: string) => string,
  table = 'gate_lines',
): Promise<{ warnings: string[] }> {
  const prepared = prepareFiles(files);
  try {
    if (prepared.files.length === 0) throw new CliError(`${files.map((f) => path.dirname(f))[0]}: no complete gate-log lines`);
    const mapping = prepared.files
      .map((f, i) => {
        const source = sourceOf(prepared.originals[i]!);
        const grp = source.includes('/') ? source.slice(0, source.lastIndexOf('/')) : source;
        return `(${sqlQuote(f)}, ${sqlQuote(source)}, ${sqlQuote(grp)})`;
      })
      .join(', ');
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${table}_src(filename VARCHAR, source VARCHAR, grp VARCHAR)`);
    await conn.run(`INSERT INTO ${table}_src VALUES ${mapping}`);
    try {
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE ${table}_raw AS SELECT s.grp, s.source, l.step, l.layer, l.num_tokens, l.expert_counts, l.t FROM (${gateLinesSql(prepared.files)}) l JOIN ${table}_src s USING (filename)`,
      );
    } catch (err) {
      throw explain(files, err);
    }
    // Whole numbers ≥ 0 everywhere, and one expert count per group: otherwise the file scan names the line.
    const whole = (x: string) => `(${x} IS NULL OR ${x} < 0 OR ${x} <> floor(${x}) OR ${x} > 9e15)`;
    const bad = await conn.runAndReadAll(
      `SELECT 1 FROM ${table}_raw WHERE ${whole('step')} OR ${whole('layer')} OR ${whole('num_tokens')} OR expert_counts IS NULL OR len(expert_counts) = 0
         OR list_bool_or(list_transform(expert_counts, x -> ${whole('x')}))
       UNION ALL SELECT 1 FROM (SELECT count(DISTINCT len(expert_counts)) k FROM ${table}_raw GROUP BY grp) WHERE k > 1 LIMIT 1`,
    );
    if (bad.currentRowCount > 0) throw explain(files, new Error('missing or invalid fields'));
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT grp, source, step::BIGINT step, layer::INTEGER layer, num_tokens::BIGINT num_tokens,
         expert_counts::BIGINT[] expert_counts, t FROM ${table}_raw`,
    );
    await conn.run(`DROP TABLE ${table}_raw`);
    const n = await conn.runAndReadAll(`SELECT count(*)::INTEGER FROM ${table}`);
    if (Number(n.getRows()[0]![0]) === 0) throw new CliError(`${path.dirname(files[0]!)}: gate-log files hold no lines`);
    return { warnings: prepared.warnings };
  } finally {
    prepared.cleanup();
  }
}

function explain(files: readonly string[], err: unknown): CliError {
  // one expert count per folder (a folder is one group: one backend × dataset, one model)
  const experts = new Map<string, { n?: number; where?: string }>();
  for (const f of files) {
    if (!experts.has(path.dirname(f))) experts.set(path.dirname(f), {});
    const e = findBadLine(f, experts.get(path.dirname(f)));
    if (e) return e;
  }
  return new CliError(`gate logs: ${errorMessage(err)}`);
}
