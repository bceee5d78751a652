// Stage outputs as views of `servelab sql`: a view per analysis stage, named after it (moe_cv,
// latency_summary, …), over each run's derived/<stage>.parquet (built first when stale), and the
// `--describe` listing of every view with its columns and their units.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../core/errors.ts';
import { Bool, Float64, Int32, Int64, Table, Utf8, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { formatTable } from '../core/output.ts';
import { tables, type TableDef } from '../core/schema.ts';
import type { Catalog } from './catalog.ts';
import { ident, sqlQuote } from './contract-sql.ts';
import { loadStages, runStages, type StageDef } from './stages.ts';
import { catalogViews } from './views.ts';

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where a run's stage outputs go: <run>/derived, or a temp folder when the run is read-only. */
export function derivedDirOf(runDir: string): string {
  return writable(runDir) ? path.join(runDir, 'derived') : path.join(os.tmpdir(), 'servelab-derived', path.basename(runDir));
}

/** Stage names that a SQL text mentions as whole words. */
export function stagesMentioned(sql: string, names: readonly string[] = [...loadStages().keys()]): string[] {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return names.filter((n) => words.has(n));
}

/**
 * Builds the stages (when stale) for every run of the catalog and creates a view per stage over
 * the outputs of all runs (UNION ALL BY NAME). A run whose stage fails is left out with a warning.
 * Returns the views made; they are added to cat.views.
 */
export async function addStageViews(cat: Catalog, stages: readonly string[], log: (line: string) => void): Promise<string[]> {
  if (stages.length === 0) return [];
  const outputs = new Map<string, string[]>();
  for (const runDir of cat.runDirs) {
    try {
      const results = await runStages({ runDir, outDir: derivedDirOf(runDir), stages, log: () => {} });
      for (const r of results) outputs.set(r.stage, [...(outputs.get(r.stage) ?? []), r.output]);
    } catch (err) {
      log(`warning: stages ${stages.join(', ')} left out for ${runDir}: ${errorMessage(err).split('\n')[0]}`);
    }
  }
  const made: string[] = [];
  for (const [stage, files] of outputs) {
    if (cat.views.includes(stage)) continue;
    await cat.conn.run(`CREATE OR REPLACE VIEW ${ident(stage)} AS SELECT * FROM read_parquet([${files.map(sqlQuote).join(', ')}], union_by_name = true)`);
    cat.views.push(stage);
    made.push(stage);
  }
  return made;
}

/** The unit a column name says by the project's suffix conventions, if any. */
export function unitOfName(column: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/_ns$/, 'ns'],
    [/_unix_ms$/, 'ms since the Unix epoch (wall clock)'],
    [/_ms(_(mean|std|p\d+|max|min))?$|^(mean|median|p\d+|std)_\w+_ms$/, 'ms'],
    [/_per_s$|_throughput$|^output_throughput$/, 'per s'],
    [/(^|_)s$|_s_|_s_(mean|p\d+)$/, 's'],
    [/_pct$/, '%'],
    [/(^|_)tokens$|_tokens_/, 'tokens'],
    [/(^|_)cv(_|$)|_ratio$|^pearson|^spearman|^r2$|share$|^relative_load$|score/, 'unitless'],
    [/(^|_)steps$/, 'steps'],
  ];
  return rules.find(([re]) => re.test(column))?.[1];
}

interface ViewInfo {
  name: string;
  kind: 'table' | 'view' | 'stage';
  about: string;
  /** The stage's `units:` header line. */
  units?: string;
}

/** Every view `servelab sql` offers: contract tables, catalog views, stages. */
export function allViews(): ViewInfo[] {
  const out: ViewInfo[] = [];
  for (const t of Object.values(tables) as TableDef[]) out.push({ name: t.name, kind: 'table', about: t.doc });
  for (const v of catalogViews()) out.push({ name: v.name, kind: 'view', about: firstHeaderLine(fs.readFileSync(v.file, 'utf8'), v.name) });
  for (const s of loadStages().values()) out.push({ name: s.name, kind: 'stage', about: `${firstHeaderLine(s.header, s.name)} (grain: ${s.grain})`, units: headerField(s, 'units') });
  return out;
}

function firstHeaderLine(text: string, name: string): string {
  const first = text.split('\n')[0]!.replace(/^--\s?/, '');
  return first.startsWith(`${name}:`) ? first.slice(name.length + 1).trim() : first.trim();
}

function headerField(s: StageDef, key: string): string | undefined {
  const line = s.header.split('\n').find((l) => l.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim();
}

/** The `sql --help` lines naming every view. */
export function viewsHelp(): string {
  const v = allViews();
  const list = (kind: ViewInfo['kind']) => v.filter((x) => x.kind === kind).map((x) => x.name).join(', ');
  return (
    `\nViews: contract tables ${list('table')};\n  computed views ${list('view')};\n  stage outputs ${list('stage')}\n` +
    '  (a stage is built into each run\'s derived/ when stale, the first time a query names it).\n' +
    'servelab sql --describe [VIEW] lists the views, or one view\'s columns with their units.'
  );
}

/** `sql --describe`: every view, or the columns of one (with types, units and what they mean). */
export async function describe(cat: Catalog, view: string | undefined, log: (line: string) => void): Promise<string> {
  const views = allViews();
  if (!view) {
    return `${formatTable(['view', 'kind', 'what it holds'], views.map((v) => [v.name, v.kind, v.about]))}\n`;
  }
  const info = views.find((v) => v.name === view);
  if (!info) {
    const { choiceList } = await import('../core/errors.ts');
    const { usageError } = await import('../core/errors.ts');
    throw usageError(`--describe: view ${choiceList(view, views.map((v) => v.name))}`);
  }
  if (info.kind === 'stage') await addStageViews(cat, [view], log);
  const table = info.kind === 'table' ? (tables as Record<string, TableDef>)[view] : undefined;
  let rows: unknown[][];
  try {
    const reader = await cat.conn.runAndReadAll(`DESCRIBE ${ident(view)}`);
    rows = reader.getRowsJS().map((r) => {
      const col = String(r[0]);
      const doc = table?.fields[col]?.doc ?? '';
      return [col, String(r[1]), unitOfName(col) ?? (doc.match(/\bin (tokens|ms|seconds)\b/)?.[1] ?? ''), doc];
    });
  } catch (err) {
    return `${view}: no output yet (${errorMessage(err).split('\n')[0]})\n`;
  }
  const head = `${view} (${info.kind}): ${info.about}${info.units ? `\nunits: ${info.units}` : ''}\n`;
  return `${head}${formatTable(['column', 'type', 'unit', 'about'], rows)}\n`;
}

/** A query result as an Arrow IPC file (what pandas, polars and DuckDB read): typed columns, JSON and nested values as text. */
export function resultToArrowIpc(columns: string[], types: string[], rows: unknown[][]): Uint8Array {
  const vectors: Record<string, Vector> = {};
  columns.forEach((c, i) => {
    const t = types[i]!;
    let type: DataType;
    let conv = (v: unknown): unknown => v;
    if (t === 'BIGINT' || t === 'HUGEINT' || t === 'UBIGINT') {
      type = new Int64();
      conv = (v) => (v === null || v === undefined ? null : BigInt(v as bigint));
    } else if (t === 'INTEGER' || t === 'SMALLINT' || t === 'TINYINT') type = new Int32();
    else if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) {
      type = new Float64();
      conv = (v) => (v === null || v === undefined ? null : Number(v));
    } else if (t === 'BOOLEAN') type = new Bool();
    else {
      type = new Utf8();
      conv = (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
    }
    vectors[c] = vectorFromArray(rows.map((r) => conv(r[i])) as never[], type);
  });
  return tableToIPC(new Table(vectors), 'file');
}
