// SQL that reads raw JSON records into the contract's columns inside DuckDB, defaults filled
// and unknown fields kept in `extra`. Finalize pairs it with the reader's exact line check;
// the catalog's live views over raw JSONL use it alone (required fields and enums checked).
import { objectSizeOption } from '../core/jsonl-reader.ts';
import { type Field, type TableDef } from '../core/schema.ts';

export const sqlQuote = (s: string) => `'${s.replaceAll("'", "''")}'`;
export const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

const INT_MAX = 2 ** 31 - 1;

/** The DuckDB type json_transform extracts a field as (INTEGER via BIGINT, to range-check it). */
const extractType = (f: Field) => (f.type === 'INTEGER' ? 'BIGINT' : f.type);

function literal(v: string | number | boolean): string {
  return typeof v === 'string' ? sqlQuote(v) : String(v);
}

/** Required fields present and enums respected, judged on the extracted values. */
function lightCheck(name: string, f: Field): string | undefined {
  const v = `s.${ident(name)}`;
  const parts: string[] = [];
  if (!f.nullable && f.default === undefined) parts.push(`${v} IS NOT NULL`);
  if (f.enum) parts.push(`(${v} IS NULL OR ${v} IN (${f.enum.map(sqlQuote).join(', ')}))`);
  if (f.type === 'INTEGER') parts.push(`(${v} IS NULL OR ${v} BETWEEN ${-INT_MAX} AND ${INT_MAX})`);
  return parts.length ? parts.join(' AND ') : undefined;
}

/** The output column for one field: cast, with the default filled in. */
function column(name: string, f: Field, v = `s.${ident(name)}`): string {
  const value = f.default !== undefined ? `COALESCE(${v}, ${literal(f.default)})` : v;
  return `TRY_CAST(${value} AS ${f.type}) AS ${ident(name)}`;
}

export interface ObjectSqlOptions {
  /** read_json_objects format: newline_delimited for raw files, auto for pretty manifests. */
  format?: 'newline_delimited' | 'auto';
  /** Drop rows missing a required field or with a value outside an enum (default true). */
  check?: boolean;
}

/**
 * SELECT over JSON files giving the table's columns in contract order, with unknown fields
 * merged into `extra`. Unparseable lines (a torn last line) are read as NULL and dropped.
 * Values of the wrong JSON type become NULL; the strict line-by-line check is the reader's.
 */
export function objectSelect(t: TableDef, files: readonly string[], opts: ObjectSqlOptions = {}): string {
  const all = Object.entries(t.fields);
  const struct = `{${all.map(([n, f]) => `${JSON.stringify(n)}: ${JSON.stringify(extractType(f))}`).join(', ')}}`;
  // JSON merge patch: a null in the patch deletes the key, leaving only the unknown fields.
  const known = JSON.stringify(Object.fromEntries(all.map(([n]) => [n, null])));
  const extra = `CASE WHEN u = '{}' THEN s.extra
      ELSE json_merge_patch(CASE WHEN json_type(s.extra) = 'OBJECT' THEN s.extra ELSE '{}' END, u) END`;
  const cols = all.filter(([n]) => n !== 'extra').map(([n, f]) => column(n, f));
  if (t.fields.extra) cols.push(`CAST(${extra} AS JSON) AS extra`);
  const source = `read_json_objects([${files.map(sqlQuote).join(', ')}], format = '${opts.format ?? 'newline_delimited'}', ignore_errors = true, hive_partitioning = false${objectSizeOption(files)})`;
  // UNNEST of a one-element list makes DuckDB parse each line once per function; a plain
  // subquery would be inlined into every reference (one parse per column).
  const parsed = `SELECT p.s AS s, p.u AS u FROM (SELECT unnest([{
      's': json_transform(json, ${sqlQuote(struct)}), 'u': json_merge_patch(json, ${sqlQuote(known)})}]) AS p
    FROM ${source} WHERE json IS NOT NULL)`;
  const checks = opts.check === false ? [] : all.map(([n, f]) => lightCheck(n, f)).filter((c) => c !== undefined);
  return `SELECT ${cols.join(',\n  ')}\nFROM (${parsed})${checks.length ? `\nWHERE ${checks.join('\n  AND ')}` : ''}`;
}

/** DuckDB column types for read_json, from the contract. */
export function jsonColumns(t: TableDef): string {
  return `{${Object.entries(t.fields)
    .map(([n, f]) => `${sqlQuote(n)}: ${sqlQuote(f.type)}`)
    .join(', ')}}`;
}

/**
 * The fast path for files whose every line the reader has checked and found to hold only
 * contract fields: DuckDB reads the typed columns directly. A torn last line comes back as
 * an all-NULL row and is dropped (every table's `run` is required).
 */
export function typedSelect(t: TableDef, files: readonly string[]): string {
  const cols = Object.entries(t.fields).map(([n, f]) => column(n, f, ident(n)));
  return `SELECT ${cols.join(', ')} FROM read_json([${files.map(sqlQuote).join(', ')}], format = 'newline_delimited', columns = ${jsonColumns(t)}, ignore_errors = true, hive_partitioning = false${objectSizeOption(files)}) WHERE "run" IS NOT NULL`;
}

/** An empty relation with the table's columns, so queries over an empty archive still bind. */
export function emptySelect(t: TableDef): string {
  return `SELECT ${Object.entries(t.fields)
    .map(([n, f]) => `CAST(NULL AS ${f.type}) AS ${ident(n)}`)
    .join(', ')} WHERE false`;
}
