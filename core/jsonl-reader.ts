// Streams a table's raw JSONL file record by record, checked against the contract. A torn last
// line (a crash mid-write) is tolerated and counted; a bad line in the middle stops with
// `file:line: field: problem`, or is skipped and counted when `lenient` is set.
import fs from 'node:fs';
import { CliError, inputError } from './errors.ts';
import { fastChecker, type FastCheck } from './jsonl-fastcheck.ts';
import { isTimeNs, type TableDef } from './schema.ts';
import { normalizeRecord } from './validate.ts';

export interface ReadOptions {
  /** Skip and count malformed lines instead of stopping at the first one. */
  lenient?: boolean;
  /** Bytes read per system call. */
  chunkBytes?: number;
}

export interface ReadStats {
  file: string;
  /** Lines seen, blank lines included (the number of the last line). */
  lines: number;
  /** Records returned. */
  records: number;
  /** Line number of a torn (unparseable) last line, or null. */
  tornLine: number | null;
  /** Lines skipped under `lenient`, and the first few problems. */
  skipped: number;
  problems: string[];
}

const MAX_PROBLEMS = 5;

/** The largest line one record may take. */
export const MAX_RECORD_BYTES = 256 << 20;
/** DuckDB's default maximum_object_size. */
const DUCKDB_OBJECT_BYTES = 16 << 20;

// The longest line of each file checked here: DuckDB reads a file with longer lines only when
// told (maximum_object_size), and a larger setting costs memory on every read, so it is raised
// only for the files that need it.
const longest = new Map<string, number>();

/** Records that `file` holds a line of `bytes` (the checks call it; so does a cleaned-copy writer). */
export function noteLineBytes(file: string, bytes: number): void {
  if (bytes > DUCKDB_OBJECT_BYTES && bytes > (longest.get(file) ?? 0)) longest.set(file, bytes);
}

/** The read_json option these files need (`, maximum_object_size = N`), or '' when DuckDB's default holds. */
export function objectSizeOption(files: readonly string[]): string {
  const max = Math.max(0, ...files.map((f) => longest.get(f) ?? 0));
  if (max === 0) return '';
  let n = DUCKDB_OBJECT_BYTES;
  while (n < max + 1024) n *= 2;
  return `, maximum_object_size = ${n}`;
}
const tooLong = (file: string, line: number, bytes: number) =>
  inputError(`${file}:${line}`, undefined, `the line is ${(bytes / (1 << 20)).toFixed(0)} MB; one record may take at most ${MAX_RECORD_BYTES >> 20} MB`);

/** Raw lines of a file with their 1-based numbers; the last one may lack its newline. */
export function* jsonlLines(file: string, chunkBytes = 1 << 22): Generator<{ text: string; line: number; last: boolean }> {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let carry: Buffer = Buffer.alloc(0);
    let line = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      let start = 0;
      let nl: number;
      while ((nl = data.indexOf(10, start)) >= 0) {
        line++;
        yield { text: data.toString('utf8', start, nl), line, last: false };
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
    if (carry.length) yield { text: carry.toString('utf8'), line: line + 1, last: true };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The same lines as jsonlLines, handed to a callback as byte ranges of a shared buffer (valid
 * during the call only): no decoding, generator step or object per line (the finalize check's
 * hot loop). The last line may lack its newline.
 */
export function forEachLine(file: string, fn: (buf: Buffer, start: number, end: number, line: number) => void, chunkBytes = 1 << 22): void {
  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let have = 0; // bytes of an unfinished line carried over from the previous read, at the start of buf
    let line = 0;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) break;
      const end = have + n;
      let start = 0;
      let nl = buf.indexOf(10, have);
      while (nl >= 0 && nl < end) {
        fn(buf, start, nl, ++line);
        start = nl + 1;
        nl = buf.indexOf(10, start);
      }
      have = end - start;
      if (have > 0 && start > 0) buf.copy(buf, 0, start, end);
    }
    if (have > 0) fn(buf, 0, have, line + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The one policy for lines that do not hold a record, shared by readJsonl and scanJsonl: a
 * line that fails to parse is held back until a later non-blank line shows it was not the
 * last (then it is malformed), and at the end of the file it is a torn write, tolerated and
 * counted. A malformed line stops the read with its error, or is skipped and counted under
 * `lenient`.
 */
class BadLines {
  private held: { line: number; error: CliError } | undefined;

  constructor(
    private readonly stats: ReadStats,
    private readonly lenient: boolean | undefined,
    private readonly onSkip?: (line: number) => void,
  ) {}

  /** A non-blank line follows: a held unparseable line was in the middle after all. */
  nextLine(): void {
    if (this.held) {
      const { line, error } = this.held;
      this.held = undefined;
      this.malformed(line, error);
    }
  }

  /** Parses a line's text, or holds its error (torn if nothing follows) and returns undefined. */
  parse(text: string, line: number): { value: unknown } | undefined {
    try {
      return { value: JSON.parse(text) };
    } catch (err) {
      this.held = { line, error: inputError(`${this.stats.file}:${line}`, undefined, `invalid JSON: ${(err as Error).message}`) };
      return undefined;
    }
  }

  malformed(line: number, error: CliError): void {
    if (!this.lenient) throw error;
    this.stats.skipped++;
    this.onSkip?.(line);
    if (this.stats.problems.length < MAX_PROBLEMS) this.stats.problems.push(error.message);
  }

  /** End of file: a line still held is the torn last line. */
  end(): void {
    if (this.held) this.stats.tornLine = this.held.line;
  }
}

/** normalizeRecord, with a contract violation handed to `bad` (undefined returned) instead of thrown. */
function normalizeOr(table: TableDef, parsed: unknown, file: string, line: number, bad: BadLines): Record<string, unknown> | undefined {
  try {
    return normalizeRecord(table, parsed, { file, line });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    bad.malformed(line, err);
    return undefined;
  }
}

/**
 * Yields the normalized records of one raw file (unknown fields in `extra`). `stats` is filled
 * as it goes and is final once the generator is done. Torn last lines are not an error.
 */
export function* readJsonl(table: TableDef, file: string, opts: ReadOptions = {}, stats: ReadStats = newStats(file)): Generator<Record<string, unknown>> {
  const bad = new BadLines(stats, opts.lenient);
  for (const { text, line } of jsonlLines(file, opts.chunkBytes)) {
    stats.lines = line;
    if (isBlank(text)) continue;
    bad.nextLine();
    if (text.length > DUCKDB_OBJECT_BYTES / 3) {
      const bytes = Buffer.byteLength(text);
      if (bytes > MAX_RECORD_BYTES) {
        bad.malformed(line, tooLong(file, line, bytes));
        continue;
      }
      noteLineBytes(file, bytes);
    }
    const parsed = bad.parse(text, line);
    if (!parsed) continue;
    const record = normalizeOr(table, parsed.value, file, line, bad);
    if (!record) continue;
    stats.records++;
    yield record;
  }
  bad.end();
}

const isBlank = (text: string) => text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '');

export function newStats(file: string): ReadStats {
  return { file, lines: 0, records: 0, tornLine: null, skipped: 0, problems: [] };
}

/** Reads a whole file into memory (tests, small files). */
export function readJsonlAll(table: TableDef, file: string, opts: ReadOptions = {}): { records: Record<string, unknown>[]; stats: ReadStats } {
  const stats = newStats(file);
  const records = [...readJsonl(table, file, opts, stats)];
  return { records, stats };
}

export interface ScanResult extends ReadStats {
  /** Records carrying fields outside the contract (or an `extra` object) to keep in `extra`. */
  withExtra: number;
  /** Line numbers skipped under `lenient`. */
  skippedLines: number[];
}

type Check = (rec: Record<string, unknown>) => 'ok' | 'extra' | 'bad';
const checks = new WeakMap<TableDef, Check>();
const fastCheckers = new WeakMap<TableDef, FastCheck>();

/** A fast yes/no version of normalizeRecord (no allocation); on 'bad' the caller asks normalizeRecord why. */
export function checker(table: TableDef): Check {
  let c = checks.get(table);
  if (c) return c;
  const entries = Object.entries(table.fields).filter(([n]) => n !== 'extra');
  const names = entries.map(([n]) => n);
  const specs = entries.map(([n, f]) => ({ type: f.type, enum: f.enum as readonly string[] | undefined, required: !f.nullable && f.default === undefined, time: isTimeNs(n) }));
  // Field by field in contract order: parsed records share a shape, so these reads are cheap.
  c = (rec) => {
    let present = 0;
    for (let i = 0; i < names.length; i++) {
      const v = rec[names[i]!];
      const f = specs[i]!;
      if (v === undefined || v === null) {
        if (f.required) return 'bad';
        if (v === null) present++;
        continue;
      }
      present++;
      switch (f.type) {
        case 'VARCHAR':
          if (typeof v !== 'string' || (f.enum !== undefined && !f.enum.includes(v))) return 'bad';
          break;
        case 'BIGINT':
          if (!Number.isSafeInteger(v) || (f.time && (v as number) < 0)) return 'bad';
          break;
        case 'INTEGER':
          if (!Number.isInteger(v) || Math.abs(v as number) > 2147483647) return 'bad';
          break;
        case 'DOUBLE':
          if (typeof v !== 'number') return 'bad';
          break;
        case 'BOOLEAN':
          if (typeof v !== 'boolean') return 'bad';
          break;
        case 'JSON':
          break;
      }
    }
    // Any key beyond the contract's (or an `extra` object) must be carried into `extra`.
    let keys = 0;
    for (const _ in rec) keys++;
    return keys === present ? 'ok' : 'extra';
  };
  checks.set(table, c);
  return c;
}

/**
 * Checks every line of a raw file without building records: the finalize fast path.
 * Throws `file:line: field: problem` on the first bad line in the middle (unless lenient).
 */
export function scanJsonl(table: TableDef, file: string, opts: ReadOptions = {}): ScanResult {
  const res: ScanResult = { ...newStats(file), withExtra: 0, skippedLines: [] };
  const check = checker(table);
  const bad = new BadLines(res, opts.lenient, (line) => res.skippedLines.push(line));
  const fast = fastCheckers.get(table) ?? fastCheckers.set(table, fastChecker(table)).get(table)!;
  forEachLine(
    file,
    (buf, start, end, line) => {
      res.lines = line;
      // Most lines are plain contract records as the writer made them: checked on the bytes.
      if (fast(buf, start, end)) {
        bad.nextLine();
        res.records++;
        return;
      }
      if (end - start > DUCKDB_OBJECT_BYTES) {
        if (end - start > MAX_RECORD_BYTES) {
          bad.nextLine();
          bad.malformed(line, tooLong(file, line, end - start));
          return;
        }
        noteLineBytes(file, end - start);
      }
      const text = buf.toString('utf8', start, end);
      if (isBlank(text)) return;
      bad.nextLine();
      const parsed = bad.parse(text, line);
      if (!parsed) return;
      const value = parsed.value;
      const verdict = value !== null && typeof value === 'object' && !Array.isArray(value) ? check(value as Record<string, unknown>) : 'bad';
      // 'bad' asks normalizeRecord why; one it accepts after all still goes the careful way.
      if (verdict === 'bad' && !normalizeOr(table, value, file, line, bad)) return;
      if (verdict !== 'ok') res.withExtra++;
      res.records++;
    },
    opts.chunkBytes,
  );
  bad.end();
  return res;
}
