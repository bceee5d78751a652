// Renders a report notebook (reports/NOTEBOOKS.md) over one run or several: builds the stages
// its SQL names (when stale), runs each SQL cell in DuckDB over the run's views, checks every
// chart against its cell's columns, and lays the page out with reports/html.ts's page shell.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Token } from 'markdown-it';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { openCatalog, queryRows, type Catalog } from '../../analysis/catalog.ts';
import { ident, sqlQuote } from '../../analysis/contract-sql.ts';
import { readManifest, resolveRun, type Manifest } from '../../analysis/runstore.ts';
import { loadStages, runStages } from '../../analysis/stages.ts';
import { CliError, choiceList, errorMessage, usageError } from '../../core/errors.ts';
import { escapeHtml, formatValue, renderPage, type DataRow, type PageChart } from '../html.ts';
import { pageEncoding } from './arrow.ts';
import { markdown, readNotebook, REPORTS_DIR, type Cell, type Notebook, type ParamValue, type TableOptions } from './parse.ts';

export interface RenderOptions {
  /** `--run` values: RUN for a one-run notebook, NAME=RUN for each of `runs:` in the front matter. */
  runs: string[];
  /** `--param k=v` values. */
  params?: string[];
  /** Archive to look run ids up in. */
  dataDir?: string;
  /** Folder for stage outputs (one run only; default <run>/derived, or a temp folder when read-only). */
  derived?: string;
  force?: boolean;
  log?: (line: string) => void;
}

export interface RenderedCell {
  name: string;
  line: number;
  columns: string[];
  rows: DataRow[];
}

export interface RenderResult {
  html: string;
  title: string;
  /** Every SQL cell's result, by name. */
  cells: Map<string, RenderedCell>;
  /** Vega-Lite warnings per chart (file:line: message). */
  warnings: string[];
  runDirs: string[];
}

interface RunRef {
  name: string;
  dir: string;
  manifest: Manifest;
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function derivedDir(runDir: string): string {
  return writable(runDir) ? path.join(runDir, 'derived') : path.join(os.tmpdir(), 'servelab-derived', path.basename(runDir));
}

function resolveRuns(nb: Notebook, args: string[], dataDir: string | undefined): RunRef[] {
  const names = nb.front.runs;
  if (!names) {
    if (args.length !== 1) throw usageError(`${nb.file}: this notebook reads one run: give --run RUN once (got ${args.length})`);
    const dir = resolveRun(args[0]!.replace(/^run=/, ''), dataDir);
    return [{ name: 'run', dir, manifest: readManifest(dir) }];
  }
  const given = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) {
      if (names.length === 1 && args.length === 1) given.set(names[0]!, a);
      else throw usageError(`--run ${a}: this notebook reads runs ${names.join(', ')}: give --run NAME=RUN for each`);
      continue;
    }
    const name = a.slice(0, eq);
    if (!names.includes(name)) throw usageError(`--run ${a}: run name ${choiceList(name, names)}`);
    given.set(name, a.slice(eq + 1));
  }
  const missing = names.filter((n) => !given.has(n));
  if (missing.length) throw usageError(`${nb.file}: give --run NAME=RUN for ${missing.join(', ')} (runs: ${names.join(', ')})`);
  return names.map((name) => {
    const dir = resolveRun(given.get(name)!, dataDir);
    return { name, dir, manifest: readManifest(dir) };
  });
}

/** Parameter values: the defaults, overridden by `k=v`, each taking its default's type. */
export function resolveParams(nb: Notebook, args: string[] = []): Record<string, ParamValue> {
  const params = { ...nb.front.params };
  const names = Object.keys(params);
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq < 0) throw usageError(`--param ${a}: give NAME=VALUE`);
    const k = a.slice(0, eq);
    const v = a.slice(eq + 1);
    if (!Object.hasOwn(params, k)) throw usageError(`--param ${a}: ${names.length ? `parameter ${choiceList(k, names)}` : `${nb.file} has no parameters`}`);
    const d = params[k];
    if (typeof d === 'number') {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw usageError(`--param ${a}: ${k} is a number (default ${d})`);
      params[k] = n;
    } else if (typeof d === 'boolean') {
      if (v !== 'true' && v !== 'false') throw usageError(`--param ${a}: ${k} is true or false`);
      params[k] = v === 'true';
    } else params[k] = v;
  }
  return params;
}

const sqlLiteral = (v: ParamValue) => (typeof v === 'string' ? sqlQuote(v) : String(v));

/** `${params.x}` in SQL → the literal; an unknown name lists the parameters. */
function substituteSql(sql: string, params: Record<string, ParamValue>, where: string): string {
  return sql.replace(/\$\{\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/g, (_m, k: string) => {
    if (!Object.hasOwn(params, k)) throw new CliError(`${where}: \${params.${k}}: parameter ${choiceList(k, Object.keys(params))}`);
    return sqlLiteral(params[k]!);
  });
}

/** Notebook + included sections, flattened for the SQL pass. */
interface Part {
  nb: Notebook;
  /** For an included section: the include cell, and whether its view was found. */
  include?: Cell & { kind: 'include' };
}

function sectionFile(nb: Notebook, file: string): string {
  const beside = path.resolve(path.dirname(nb.file), file);
  if (fs.existsSync(beside)) return beside;
  return path.resolve(REPORTS_DIR, file);
}

/** Stage names a SQL text mentions (as whole words). */
function stagesNamed(sql: string, stageNames: string[]): string[] {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return stageNames.filter((s) => words.has(s));
}

export async function renderNotebook(file: string, opts: RenderOptions): Promise<RenderResult> {
  const nb = readNotebook(file);
  const params = resolveParams(nb, opts.params);
  const runs = resolveRuns(nb, opts.runs, opts.dataDir);
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (opts.derived && runs.length > 1) throw usageError('--derived works with one run only');

  // Sections included by the notebook, parsed now so their SQL counts toward the stages built.
  const sections = new Map<Cell, Notebook>();
  for (const c of nb.cells) {
    if (c.kind !== 'include') continue;
    const f = sectionFile(nb, c.file);
    if (!fs.existsSync(f)) throw new CliError(`${nb.file}:${c.line}: include: ${c.file}: no such section (looked beside the notebook and in ${REPORTS_DIR})`);
    sections.set(c, readNotebook(f, { section: true }));
  }

  const stageProblems = new Map<string, string>();
  const stageDefs = loadStages(undefined, stageProblems);
  const stageNames = [...stageDefs.keys(), ...stageProblems.keys()];
  const allSql = [nb, ...sections.values()].flatMap((n) => n.cells.flatMap((c) => (c.kind === 'sql' ? [c.sql] : c.kind === 'include' ? [c.when] : [])));
  const wanted = [...new Set(allSql.flatMap((s) => stagesNamed(s, stageNames)))];
  const whenStages = new Set(nb.cells.flatMap((c) => (c.kind === 'include' && stageNames.includes(c.when) ? [c.when] : [])));

  // Build the stages per run. A stage that only decides whether a section shows may fail.
  const built = new Map<string, string[]>(); // stage → parquet per run (in run order)
  const missing = new Set<string>();
  for (const r of runs) {
    const outDir = opts.derived ?? derivedDir(r.dir);
    const required = wanted.filter((s) => !whenStages.has(s));
    const results = required.length ? await runStages({ runDir: r.dir, outDir, stages: required, force: opts.force, log }) : [];
    for (const res of results) built.set(res.stage, [...(built.get(res.stage) ?? []), res.output]);
    for (const s of whenStages) {
      try {
        const extra = await runStages({ runDir: r.dir, outDir, stages: [s], force: opts.force, log });
        for (const res of extra) if (!results.some((x) => x.stage === res.stage)) built.set(res.stage, [...(built.get(res.stage) ?? []), res.output]);
      } catch (err) {
        log(`[skip] ${s}: ${errorMessage(err).split('\n')[0]} (the section that needs it shows its fallback)`);
        missing.add(s);
      }
    }
  }

  const cat = await openCatalog({ runDirs: runs.map((r) => r.dir), warn: log });
  try {
    const views = [...cat.views];
    for (const [stage, files] of built) {
      if (missing.has(stage) || files.length !== runs.length) continue;
      const src =
        runs.length === 1
          ? `SELECT * FROM read_parquet(${sqlQuote(files[0]!)})`
          : files.map((f, i) => `SELECT ${sqlQuote(runs[i]!.name)} AS run_name, * FROM read_parquet(${sqlQuote(f)})`).join('\nUNION ALL BY NAME\n');
      await cat.conn.run(`CREATE OR REPLACE TEMP VIEW ${ident(stage)} AS ${src}`);
      views.push(stage);
    }
    await cat.conn.run(
      `CREATE OR REPLACE TEMP VIEW notebook_runs AS SELECT * FROM (VALUES ${runs.map((r) => `(${sqlQuote(r.name)}, ${sqlQuote(r.manifest.run ?? path.basename(r.dir))}, ${sqlQuote(r.dir)})`).join(', ')}) t(run_name, run, run_dir)`,
    );
    views.push('notebook_runs');

    const cells = new Map<string, RenderedCell>();
    const runCells = async (n: Notebook) => {
      for (const c of n.cells) {
        if (c.kind !== 'sql') continue;
        const where = `${n.file}:${c.line}`;
        if (views.includes(c.name) || cells.has(c.name)) {
          throw new CliError(`${where}: sql cell: '${c.name}' is already ${cells.has(c.name) ? `a cell (line ${cells.get(c.name)!.line})` : 'a view'}: choose another name`);
        }
        const sql = substituteSql(c.sql, params, where).replace(/[\s;]+$/, '');
        try {
          await cat.conn.run(`CREATE OR REPLACE TEMP TABLE ${ident(c.name)} AS (\n${sql}\n)`);
          const reader = await cat.conn.runAndReadAll(`SELECT * FROM ${ident(c.name)}`);
          const columns = reader.columnNames();
          const rows = (await queryRows(cat.conn, `SELECT * FROM ${ident(c.name)}`)) as DataRow[];
          cells.set(c.name, { name: c.name, line: c.line, columns, rows });
        } catch (err) {
          if (err instanceof CliError) throw err;
          throw new CliError(`${where}: sql cell ${c.name}: ${errorMessage(err)}`, undefined, [
            `views: ${views.join(', ')}`,
            ...(cells.size ? [`earlier cells: ${[...cells.keys()].join(', ')}`] : []),
            'see every view and its columns with: servelab sql --describe',
          ]);
        }
      }
    };
    await runCells(nb);
    // A section shows when its view exists for the run and has rows; its cells run only then.
    const shown = new Map<Cell, boolean>();
    for (const [inc, sec] of sections) {
      const when = (inc as Cell & { kind: 'include' }).when;
      let ok = false;
      if (cells.has(when)) ok = cells.get(when)!.rows.length > 0;
      else if (views.includes(when)) {
        const [row] = await queryRows(cat.conn, `SELECT count(*) AS n FROM ${ident(when)}`);
        ok = Number(row?.n ?? 0) > 0;
      }
      shown.set(inc, ok);
      if (ok) await runCells(sec);
    }

    const title = substituteText(nb.front.title, cells, params, `${nb.file}:2`) + (simulated(runs) ? ' — simulated server' : '');
    const warnings: string[] = [];
    const page = layout(nb, sections, shown, cells, params, warnings);
    const html = renderPage({
      title,
      body: page.body,
      about: aboutHtml(runs),
      charts: page.charts,
      data: page.data,
      footer: `Rendered by servelab notebook render from ${path.relative(process.cwd(), nb.file) || nb.file}.`,
    }, pageEncoding);
    return { html, title, cells, warnings, runDirs: runs.map((r) => r.dir) };
  } finally {
    cat.close();
  }
}

/** True when every server of every run is the built-in simulated server. */
function simulated(runs: RunRef[]): boolean {
  const servers = runs.flatMap((r) => (Array.isArray(r.manifest.servers) ? (r.manifest.servers as { kind?: string }[]) : []));
  return servers.length > 0 && servers.every((s) => s?.kind === 'sim');
}

/** `${cell.column}` and `${params.x}` in prose → the value as text. */
function substituteText(text: string, cells: Map<string, RenderedCell>, params: Record<string, ParamValue>, where: string): string {
  return text.replace(/\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}/g, (_m, cell: string, col: string) => {
    if (cell === 'params') {
      if (!Object.hasOwn(params, col)) throw new CliError(`${where}: \${params.${col}}: parameter ${choiceList(col, Object.keys(params))}`);
      return String(params[col]);
    }
    const c = cells.get(cell);
    if (!c) throw new CliError(`${where}: \${${cell}.${col}}: cell ${choiceList(cell, [...cells.keys()])}`);
    if (!c.columns.includes(col)) throw new CliError(`${where}: \${${cell}.${col}}: column ${choiceList(col, c.columns)} (cell ${cell}, line ${c.line})`);
    if (c.rows.length !== 1) throw new CliError(`${where}: \${${cell}.${col}}: cell ${cell} (line ${c.line}) returned ${c.rows.length} rows; a value in prose needs exactly one`);
    return formatValue(c.rows[0]![col]);
  });
}

// ---- the page ----

interface Layout {
  body: string;
  charts: PageChart[];
  data: Record<string, { columns: string[]; rows: DataRow[] }>;
}

const COLLAPSE = 20;
/** Table rows written into the page at most (the CSV download has them all). */
const MAX_TABLE_ROWS = 2000;

function layout(nb: Notebook, sections: Map<Cell, Notebook>, shown: Map<Cell, boolean>, cells: Map<string, RenderedCell>, params: Record<string, ParamValue>, warnings: string[]): Layout {
  const charts: PageChart[] = [];
  const data: Layout['data'] = {};
  const sqlShown = new Set<string>();
  const sqlText = new Map<string, string>();
  let tableN = 0;
  const useData = (name: string) => {
    const c = cells.get(name)!;
    data[name] = { columns: c.columns, rows: c.rows };
    return c;
  };
  const sqlDisclosure = (name: string) => {
    if (sqlShown.has(name) || !sqlText.has(name)) return '';
    sqlShown.add(name);
    return `<details class="sql"><summary>SQL: ${escapeHtml(name)}</summary><pre><code>${escapeHtml(sqlText.get(name)!.trimEnd())}</code></pre></details>`;
  };

  const renderPart = (part: Notebook): string => {
    for (const c of part.cells) if (c.kind === 'sql') sqlText.set(c.name, c.sql);
    const byToken = new Map<number, Cell>(part.cells.map((c) => [c.token, c]));
    // Inline children carry no line: give each the line of its block, for error messages.
    for (const tok of part.tokens) if (tok.type === 'inline' && tok.map) for (const ch of tok.children ?? []) ch.meta = { line: part.bodyLine + tok.map[0] };
    const md = markdown();
    const defaultFence = md.renderer.rules.fence!;
    md.renderer.rules.text = (tokens, idx) => escapeHtml(substituteText(tokens[idx]!.content, cells, params, `${part.file}:${lineOfInline(part, tokens[idx]!)}`));
    md.renderer.rules.fence = (tokens, idx, options, env, self) => {
      const cell = byToken.get(idx);
      if (!cell) return defaultFence(tokens, idx, options, env, self);
      const where = `${part.file}:${cell.line}`;
      switch (cell.kind) {
        case 'sql':
          return ''; // shown as a disclosure beside the chart or table that uses it
        case 'vega-lite': {
          if (!cells.has(cell.data)) throw new CliError(`${where}: vega-lite cell: data.name: cell ${choiceList(cell.data, [...cells.keys()])}`);
          const c = useData(cell.data);
          checkFields(cell.spec, c.columns, `${where}: vega-lite cell`, cell.data);
          const { data: _d, ...spec } = cell.spec;
          vegaWarnings(spec, where, warnings);
          const id = `chart-${charts.length}`;
          charts.push({ id, spec: spec as unknown as TopLevelSpec, data: cell.data, renderer: c.rows.length > 20_000 ? 'canvas' : 'svg' });
          return `<figure class="cell">\n<div class="chart" id="${id}"></div>\n${download(cell.data, c.rows.length)}${sqlDisclosure(cell.data)}</figure>\n`;
        }
        case 'table': {
          if (!cells.has(cell.name)) throw new CliError(`${where}: table cell: cell ${choiceList(cell.name, [...cells.keys()])}`);
          const c = useData(cell.name);
          return `<figure class="cell">\n${tableHtml(c, cell.options, `table-${tableN++}`, where)}\n${download(cell.name, c.rows.length)}${sqlDisclosure(cell.name)}</figure>\n`;
        }
        case 'include': {
          const sec = sections.get(cell)!;
          if (!shown.get(cell)) return `<aside class="fallback">${escapeHtml(sec.front.fallback ?? `(${cell.file}: no ${cell.when} for this run)`)}</aside>\n`;
          return `<div class="section" data-include="${escapeHtml(cell.file)}">\n${renderPart(sec)}</div>\n`;
        }
      }
    };
    return md.renderer.render(part.tokens, md.options, {});
  };
  // A value that came out empty (an optional note) leaves no empty paragraph behind.
  let body = renderPart(nb).replace(/<p>\s*<\/p>\n?/g, '');
  const rest = [...sqlText.keys()].filter((n) => !sqlShown.has(n) && cells.has(n));
  if (rest.length) body += `<details class="sql"><summary>SQL of the values in the text (${rest.map(escapeHtml).join(', ')})</summary>${rest.map((n) => `<pre><code>-- ${escapeHtml(n)}\n${escapeHtml(sqlText.get(n)!.trimEnd())}</code></pre>`).join('')}</details>\n`;
  return { body, charts, data };
}

function lineOfInline(nb: Notebook, t: Token): number {
  return (t.meta as { line?: number } | null)?.line ?? nb.bodyLine + (t.map?.[0] ?? 0);
}

function download(cell: string, n: number): string {
  return `<div class="download"><a href="#" data-csv="${escapeHtml(cell)}" download="${escapeHtml(cell)}.csv">Download ${escapeHtml(cell)} (CSV, ${n.toLocaleString('en-US')} rows)</a></div>\n`;
}

function tableHtml(c: RenderedCell, o: TableOptions, id: string, where: string): string {
  const cols = o.columns ?? c.columns;
  for (const k of [...cols, ...Object.keys(o.labels ?? {}), ...Object.keys(o.digits ?? {})]) {
    if (!c.columns.includes(k)) throw new CliError(`${where}: table cell: column ${choiceList(k, c.columns)} (cell ${c.name})`);
  }
  const head = `<thead><tr>${cols.map((k) => `<th scope="col">${escapeHtml(o.labels?.[k] ?? k)}</th>`).join('')}</tr></thead>`;
  const row = (r: DataRow) => `<tr>${cols.map((k) => `<td${typeof r[k] === 'number' ? ' class="num"' : ''}>${escapeHtml(formatValue(r[k], o.digits?.[k]))}</td>`).join('')}</tr>`;
  const limit = o.collapse ?? COLLAPSE;
  const shownRows = c.rows.slice(0, MAX_TABLE_ROWS);
  const first = shownRows.slice(0, limit).map(row).join('\n');
  let html = `<div class="table-wrap"><table id="${id}" data-rows="${c.rows.length}">${head}<tbody>\n${first}\n</tbody></table></div>`;
  if (c.rows.length > limit) {
    const more = shownRows.slice(limit).map(row).join('\n');
    const cut = c.rows.length > MAX_TABLE_ROWS ? ` (the first ${MAX_TABLE_ROWS.toLocaleString('en-US')} here; the CSV has all)` : '';
    html += `\n<details class="more"><summary>Show the other ${(c.rows.length - limit).toLocaleString('en-US')} rows${cut}</summary><div class="table-wrap"><table>${head}<tbody>\n${more}\n</tbody></table></div></details>`;
  }
  return html;
}

const TRANSFORM_OUTPUTS = ['as', 'groupby'];

/** Every `field` an encoding names must be a column of the cell or made by a transform. */
export function checkFields(spec: unknown, columns: string[], where: string, cell: string): void {
  const made = new Set<string>();
  const collectMade = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(collectMade);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'transform' && Array.isArray(v)) {
        for (const t of v as Record<string, unknown>[]) {
          for (const key of TRANSFORM_OUTPUTS) {
            const out = t[key];
            for (const name of Array.isArray(out) ? out : [out]) {
              if (typeof name === 'string') made.add(name);
              else if (name && typeof name === 'object' && typeof (name as { as?: unknown }).as === 'string') made.add((name as { as: string }).as);
            }
          }
          for (const list of ['aggregate', 'window', 'joinaggregate']) {
            if (Array.isArray(t[list])) for (const a of t[list] as { as?: string }[]) if (a.as) made.add(a.as);
          }
          if (t.fold) ['key', 'value'].forEach((n) => made.add(n));
          if (t.pivot && typeof t.pivot === 'string') made.add('*');
        }
      }
      collectMade(v);
    }
  };
  collectMade(spec);
  const check = (node: unknown, inEncoding: boolean) => {
    if (Array.isArray(node)) return node.forEach((n) => check(n, inEncoding));
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'field' && typeof v === 'string' && inEncoding) {
        const base = v.replace(/\\\./g, '\u0000').split('.')[0]!.replace(/\u0000/g, '.');
        if (!columns.includes(v) && !columns.includes(base) && !made.has(v) && !made.has('*')) {
          throw new CliError(`${where}: field ${choiceList(v, columns)} (columns of cell ${cell})`);
        }
      }
      check(v, inEncoding || k === 'encoding' || k === 'facet' || k === 'row' || k === 'column');
    }
  };
  check(spec, false);
}

function vegaWarnings(spec: Record<string, unknown>, where: string, warnings: string[]): void {
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => {
      throw new CliError(`${where}: vega-lite cell: ${a.map(String).join(' ')}`);
    },
    warn: (...a: unknown[]) => void warnings.push(`${where}: ${a.map(String).join(' ')}`),
    info: () => logger,
    debug: () => logger,
  };
  try {
    compile({ ...spec, data: { values: [] } } as TopLevelSpec, { logger: logger as never });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${where}: vega-lite cell: ${errorMessage(err)}`);
  }
}

function aboutHtml(runs: RunRef[]): string {
  return runs
    .map((r) => {
      const m = r.manifest;
      const started = m.started_unix_ms ? new Date(m.started_unix_ms).toISOString() : undefined;
      const wall = m.started_unix_ms && m.finished_unix_ms ? `${((m.finished_unix_ms - m.started_unix_ms) / 1000).toFixed(1)} s` : undefined;
      const facts: [string, unknown][] = [
        ...(runs.length > 1 ? [['name', r.name] as [string, unknown]] : []),
        ['run', m.run ?? path.basename(r.dir)],
        ['folder', r.dir],
        ['experiment', m.experiment],
        ['status', m.status],
        ['started', started],
        ['wall time', wall],
        ['host', m.host],
        ['command', m.command],
        ['servelab', [m.tool_version, m.git_commit?.slice(0, 12)].filter(Boolean).join(' ')],
      ];
      const dl = `<dl class="facts">${facts
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(formatValue(v))}</dd>`)
        .join('')}</dl>`;
      const servers = Array.isArray(m.servers) ? (m.servers as Record<string, unknown>[]) : [];
      const keys = ['name', 'kind', 'model', 'url', 'preset'].filter((k) => servers.some((s) => s?.[k] !== undefined && s?.[k] !== null));
      const table = servers.length
        ? `<div class="table-wrap"><table class="servers"><thead><tr>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody>${servers
            .map((s) => `<tr>${keys.map((k) => `<td>${escapeHtml(k === 'kind' && s[k] === 'sim' ? 'sim (built-in simulated server)' : typeof s[k] === 'object' ? '' : formatValue(s[k]))}</td>`).join('')}</tr>`)
            .join('')}</tbody></table></div>`
        : '';
      return `${dl}${table}`;
    })
    .join('\n');
}
