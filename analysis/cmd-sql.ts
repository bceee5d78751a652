// `servelab sql "<query>"`: SQL over every run of an archive through views named after the
// contract tables; a table on a terminal, CSV/JSON/NDJSON/Parquet on request, a DuckDB file.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { StatementType, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { CliError, ExitCode, fileSystemProblem, usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { message } from '../core/messages.ts';
import { formatTable } from '../core/output.ts';
import { jsSafe, openCatalog, type Catalog } from './catalog.ts';
import { ident, sqlQuote } from './contract-sql.ts';
import { copyToParquet, defaultDataDir, fsyncFile } from './runstore.ts';
import { addStageViews, describe, resultToArrowIpc, stagesMentioned, viewsHelp } from './stage-views.ts';

export const FORMATS = ['table', 'csv', 'json', 'ndjson', 'parquet', 'arrow'] as const;
type Format = (typeof FORMATS)[number];

export const spec: CommandSpec = {
  name: 'sql',
  summary: 'answer SQL over every run: views requests, chunks, gate_loads, scrapes, sim_intervals, sim_steps, runs, request_metrics, request_itl',
  description:
    'Finalized runs are read from their Parquet files, the others from raw JSONL, checked line by line: a malformed line\n' +
    'stops with file:line: field: problem (a torn last line is tolerated), unless --lenient. Read-only unless --write.\n' +
    'request_metrics (every request with ttft/tpot/e2e/send lag) and request_itl (its chunk gaps) are computed views.\n' +
    'BIGINT values print as plain numbers. --db writes a DuckDB file with every table materialized.\n' +
    '--format arrow --out FILE.arrow writes an Arrow IPC file (pandas.read_feather, polars.read_ipc, DuckDB).' +
    viewsHelp(),
  options: {
    data: { type: 'string', metavar: 'DIR', help: 'archive root holding runs/ (or $SERVELAB_DATA)', default: 'data' },
    format: { type: 'string', short: 'f', metavar: 'FORMAT', help: 'output format (default: table, or from the --out extension)', choices: FORMATS },
    out: { type: 'string', short: 'o', metavar: 'FILE', help: 'write the result to FILE (atomically) instead of stdout' },
    db: { type: 'string', metavar: 'FILE', help: 'also write a DuckDB database file holding every table (open it with any DuckDB client)' },
    write: { type: 'boolean', help: 'allow statements that are not reads (COPY, CREATE, ...)' },
    lenient: { type: 'boolean', help: 'skip malformed raw lines of unfinalized runs (counted, the first named) instead of failing' },
    describe: { type: 'boolean', help: 'list the views (or, given a VIEW as the query, its columns with their units)' },
  },
  positionals: [{ name: 'query', help: 'SQL (optional with --db)' }],
  examples: [
    'servelab sql "select endpoint, phase, count(*) n from requests group by all order by all" --data data/samples',
    'servelab sql "select run, status, counts from runs" --data data/samples --format json',
    'servelab sql "select * from requests where status <> \'ok\'" --data data/samples --out failed.csv',
    'servelab sql "select * from chunks" --data data/samples --format parquet --out chunks.parquet',
    'servelab sql --db archive.duckdb --data data/samples    # then: duckdb archive.duckdb',
    'servelab sql "describe requests"',
    'servelab sql "select backend, dataset, per_step_cv from moe_cv order by 3 desc" --data data',
    'servelab sql --describe moe_cv',
    'servelab sql "select * from latency_summary" --format arrow --out summary.arrow',
  ],
};

const READ_TYPES = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN]);

function formatFor(format: string | undefined, out: string | undefined): Format {
  if (format) return format as Format;
  const ext = out ? path.extname(out).slice(1).toLowerCase() : '';
  if (ext === 'jsonl') return 'ndjson';
  return (FORMATS as readonly string[]).includes(ext) ? (ext as Format) : 'table';
}

function render(format: Exclude<Format, 'parquet' | 'arrow'>, columns: string[], rows: unknown[][]): string {
  const objects = () => rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
  switch (format) {
    case 'table':
      return `${formatTable(columns, rows)}\n`;
    case 'csv':
      return stringify([columns, ...rows.map((r) => r.map((c) => (c !== null && typeof c === 'object' ? JSON.stringify(c) : c)))]);
    case 'json':
      return `${JSON.stringify(objects(), null, 2)}\n`;
    case 'ndjson':
      return objects().map((o) => `${JSON.stringify(o)}\n`).join('');
  }
}

/** Materializes every view into a DuckDB file (temp file, then rename). */
async function writeDatabase(cat: Catalog, file: string): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp-${process.pid}`);
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  fs.rmSync(tmp, { force: true });
  try {
    await cat.conn.run(`ATTACH ${sqlQuote(tmp)} AS servelab_out`);
    try {
      for (const v of cat.views) await cat.conn.run(`CREATE TABLE servelab_out.${ident(v)} AS SELECT * FROM ${ident(v)}`);
    } finally {
      await cat.conn.run('DETACH servelab_out');
    }
    fsyncFile(tmp);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}.wal`, { force: true });
  }
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const query = p.positionals[0];
  const out = opt.str(p, 'out');
  const dbFile = opt.str(p, 'db');
  const format = formatFor(opt.str(p, 'format'), out);
  if (!query && !dbFile && !opt.bool(p, 'describe')) throw usageError('sql: missing QUERY (or --db FILE to write a database)', [`e.g. ${spec.examples[0]}`]);
  if ((format === 'parquet' || format === 'arrow') && !out) throw usageError(`sql: --format ${format} needs --out FILE`);
  const dataDir = argv.some((a) => a === '--data' || a.startsWith('--data=')) ? opt.str(p, 'data')! : defaultDataDir();

  const cat = await openCatalog({ dataDir, lenient: opt.bool(p, 'lenient') });
  try {
    if (cat.runDirs.length === 0) process.stderr.write(`${message.emptyArchive(dataDir)}\n`);
    const warn = (line: string) => process.stderr.write(`${line}\n`);
    if (opt.bool(p, 'describe')) {
      process.stdout.write(await describe(cat, query, warn));
      return ExitCode.ok;
    }
    await addStageViews(cat, stagesMentioned(query ?? ''), warn);
    if (dbFile) {
      await writeDatabase(cat, dbFile);
      process.stderr.write(`wrote ${dbFile}: tables ${cat.views.join(', ')} over ${cat.runDirs.length} run(s)\n`);
    }
    if (!query) return ExitCode.ok;
    const views = [`views available: ${cat.views.join(', ')}`, `see their columns with: servelab sql "describe requests"`];
    const fail = (err: unknown) => {
      if (err instanceof CliError) return err;
      const fsProblem = fileSystemProblem(err); // e.g. --out names a folder: not the query's fault
      return fsProblem ? new CliError(fsProblem) : new CliError(`query failed: ${(err as Error).message}`, ExitCode.failure, views);
    };
    // Statements are checked and run one by one (a later one may use a table an earlier one
    // made); without --write only reads ever run, so a refused statement changes nothing.
    let last: DuckDBPreparedStatement | undefined;
    try {
      const extracted = await cat.conn.extractStatements(query);
      if (extracted.count === 0) throw usageError('sql: the query is empty');
      for (let i = 0; i < extracted.count; i++) {
        const prepared = await extracted.prepare(i);
        if (!opt.bool(p, 'write') && !READ_TYPES.has(prepared.statementType)) {
          throw usageError(message.notReadOnly(StatementType[prepared.statementType] ?? String(prepared.statementType)));
        }
        if (i < extracted.count - 1) await prepared.run();
        else last = prepared;
      }
    } catch (err) {
      throw fail(err);
    }
    try {
      if (format === 'parquet') {
        const n = await copyToParquet(cat.conn, lastStatement(query), out!);
        process.stderr.write(`wrote ${out}: ${n} row(s)\n`);
        return ExitCode.ok;
      }
      const reader = await last!.runAndReadAll();
      const columns = reader.columnNames();
      if (format === 'arrow') {
        const ipc = resultToArrowIpc(columns, reader.columnTypes().map((t) => String(t)), reader.getRowsJS());
        writeFileAtomic(out!, ipc);
        process.stderr.write(`wrote ${out}: ${reader.currentRowCount} row(s)\n`);
        return ExitCode.ok;
      }
      // JSON columns (extra, counts, config…) nest as values in JSON output, stay text elsewhere.
      const jsonCols = reader.columnTypes().map((t) => (t as { alias?: string }).alias === 'JSON' && (format === 'json' || format === 'ndjson'));
      const rows = reader.getRowsJS().map((r) => r.map((v, i) => (jsonCols[i] && typeof v === 'string' ? parseOr(v) : jsSafe(v))));
      const text = render(format, columns, rows);
      if (out) {
        writeFileAtomic(out, text);
        process.stderr.write(`wrote ${out}: ${rows.length} row(s)\n`);
      } else process.stdout.write(text);
    } catch (err) {
      throw fail(err);
    }
    return ExitCode.ok;
  } finally {
    cat.close();
  }
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The text of the last statement (split on semicolons outside quotes). */
function lastStatement(sql: string): string {
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ';') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.filter((s) => s.trim() !== '').pop() ?? sql;
}
