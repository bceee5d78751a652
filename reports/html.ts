// Renders a report (sections of text, Vega-Lite charts and tables) into ONE self-contained HTML
// file: vega, vega-lite and vega-embed inlined, data embedded once as JSON, nothing fetched.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';

export type DataRow = Record<string, unknown>;

export interface Chart {
  /** A Vega-Lite spec; its top-level data is replaced by the rows below. */
  spec: TopLevelSpec;
  data: DataRow[];
  /** File name for the CSV download (default: the section title). */
  csvName?: string;
}

export interface Column {
  key: string;
  label?: string;
  /** Digits after the point for numbers (default: integers as is, others 2). */
  digits?: number;
}

export interface Table {
  columns: Column[];
  rows: DataRow[];
  csvName?: string;
}

export interface Section {
  title: string;
  /** Plain text; blank lines separate paragraphs. */
  text?: string;
  chart?: Chart;
  table?: Table;
}

export interface Report {
  title: string;
  subtitle?: string;
  /** Key/value facts shown under the title (run, experiment, host, …). */
  facts?: [string, unknown][];
  sections: Section[];
  /** Shown in the footer (e.g. the command that made the report). */
  footer?: string;
}

const LIBS = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;
const require = createRequire(import.meta.url);
let libCache: string | undefined;

/** The folder of an installed package (its exports map hides the UMD builds from resolve). */
function packageRoot(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (dir !== path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === name) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the ${name} package folder`);
}

/** The three UMD builds as one inline script body (read once per process). */
export function inlineLibraries(): string {
  if (libCache) return libCache;
  libCache = LIBS.map(([name, file]) => {
    const lib = `${name}/${file}`;
    const js = fs.readFileSync(path.join(packageRoot(name), file), 'utf8');
    if (/<\/script/i.test(js)) throw new Error(`${lib}: contains </script and cannot be inlined`);
    return `/* ${lib} */\n${js}`;
  }).join('\n;\n');
  return libCache;
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element: '<' and the JS line separators escaped. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A spec with its data bound: top-level data replaced by inline values. */
export function withData(spec: TopLevelSpec, data: DataRow[]): TopLevelSpec {
  return { ...spec, data: { values: data } } as TopLevelSpec;
}

export function formatValue(v: unknown, digits?: number): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (digits === undefined && Number.isInteger(v)) return v.toLocaleString('en-US');
    return v.toLocaleString('en-US', { minimumFractionDigits: digits ?? 2, maximumFractionDigits: digits ?? 2 });
  }
  return String(v);
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'data';

function tableHtml(t: Table, id: string): string {
  const head = t.columns.map((c) => `<th scope="col">${escapeHtml(c.label ?? c.key)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${t.columns.map((c) => `<td class="${typeof r[c.key] === 'number' ? 'num' : ''}">${escapeHtml(formatValue(r[c.key], c.digits))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

const STYLE = `
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg-alt: #f6f8fa; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 0 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.subtitle { color: var(--muted); margin: 0 0 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 16px; font-size: 0.92em; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
section { margin: 28px 0; } section p { margin: 0 0 8px; max-width: 80ch; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.88em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; white-space: nowrap; }
th { background: var(--bg-alt); } td.num { text-align: right; }
.download { font-size: 0.85em; margin-top: 4px; } .download a { color: #0969da; }
h2 { margin-top: 28px; } h3 { font-size: 1.05em; margin: 20px 0 6px; }
p, li { max-width: 80ch; } p.lead, body > p:first-of-type { font-size: 1.12em; }
figure.cell { margin: 12px 0 20px; }
details.sql, details.more { margin: 4px 0; font-size: 0.88em; } details.sql summary, details.more summary { cursor: pointer; color: var(--muted); }
details.sql pre { background: var(--bg-alt); padding: 8px; overflow-x: auto; }
aside.fallback { color: var(--muted); border-left: 3px solid var(--line); padding: 4px 10px; margin: 12px 0; }
.about { margin-top: 36px; border-top: 1px solid var(--line); padding-top: 8px; } .about h2 { border: none; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--line); padding-top: 8px; }
.chart-error { color: #cf222e; white-space: pre-wrap; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section { break-inside: avoid; page-break-inside: avoid; margin: 14px 0; }
  .download, .vega-embed details, .vega-actions, details.sql { display: none !important; }
  details.more > div { display: block; } figure.cell { break-inside: avoid; }
  .table-wrap { overflow: visible; } th { background: none; }
  table { font-size: 7pt; } th, td { padding: 1px 3px; white-space: normal; }
  .chart svg { max-width: 100%; height: auto; }
  a { color: inherit; text-decoration: none; }
}`;


export interface PageChart {
  id: string;
  /** The spec without data; the page binds the rows of cell `data`. */
  spec: TopLevelSpec;
  data: string;
  renderer: 'svg' | 'canvas';
}

export interface Page {
  title: string;
  /** The rendered body (escaped HTML from the notebook). */
  body: string;
  /** HTML of the run facts shown at the bottom. */
  about?: string;
  charts: PageChart[];
  /** Rows of every cell a chart or table uses, by cell name. */
  data: Record<string, { columns: string[]; rows: DataRow[] }>;
  footer?: string;
}

// Runs in the page: decodes Arrow cells, draws every chart, wires the CSV downloads.
const PAGE_BOOT = `
(function () {
  var payload = JSON.parse(document.getElementById('report-data').textContent);
  var data = {};
  function fromArrow(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var t = Arrow.tableFromIPC(bytes), n = t.numRows, names = t.schema.fields.map(function (f) { return f.name; });
    var cols = names.map(function (k) {
      var v = t.getChild(k);
      return v.nullCount === 0 && v.type.typeId !== Arrow.Type.Dictionary && v.type.typeId !== Arrow.Type.Bool ? v.toArray() : { get: v.get.bind(v), slow: true, v: v };
    });
    var rows = new Array(n);
    for (var r = 0; r < n; r++) {
      var o = {};
      for (var j = 0; j < names.length; j++) { var c = cols[j]; o[names[j]] = c.slow ? c.v.get(r) : c[r]; }
      rows[r] = o;
    }
    return rows;
  }
  Object.keys(payload.data).forEach(function (k) {
    var d = payload.data[k];
    data[k] = d.arrow ? fromArrow(d.arrow) : d.rows;
  });
  function csv(cell) {
    var cols = payload.data[cell].columns, rows = data[cell];
    var q = function (v) {
      if (v === null || v === undefined) return '';
      var s = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return /[",\\r\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    return [cols.map(q).join(',')].concat(rows.map(function (r) { return cols.map(function (c) { return q(r[c]); }).join(','); })).join('\\r\\n') + '\\r\\n';
  }
  document.querySelectorAll('a[data-csv]').forEach(function (a) {
    a.addEventListener('click', function () {
      a.href = URL.createObjectURL(new Blob([csv(a.getAttribute('data-csv'))], { type: 'text/csv' }));
    });
  });
  window.__charts = { total: payload.charts.length, done: 0, failed: 0 };
  payload.charts.forEach(function (c) {
    var spec = Object.assign({}, c.spec, { data: { values: data[c.data] } });
    vegaEmbed('#' + c.id, spec, { renderer: c.renderer, actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function () { window.__charts.done++; })
      .catch(function (err) {
        window.__charts.failed++;
        var el = document.getElementById(c.id);
        el.className += ' chart-error';
        el.textContent = 'chart failed: ' + err;
        console.error(err);
      });
  });
})();`;

let arrowLib: string | undefined;
/** The Apache Arrow UMD build (global Arrow), inlined only into pages that carry Arrow data. */
export function inlineArrow(): string {
  if (arrowLib) return arrowLib;
  const js = fs.readFileSync(path.join(packageRoot('apache-arrow'), 'Arrow.es2015.min.js'), 'utf8');
  if (/<\/script/i.test(js)) throw new Error('apache-arrow/Arrow.es2015.min.js: contains </script and cannot be inlined');
  arrowLib = `/* apache-arrow/Arrow.es2015.min.js */\n${js}`;
  return arrowLib;
}

/** A notebook page as one HTML document; `encode` may turn a cell's rows into Arrow (base64). */
export function renderPage(page: Page, encode?: (rows: DataRow[], columns: string[], json: string) => { arrow: string } | undefined): string {
  // Each cell's rows are serialized once: as JSON, or as Arrow when that is smaller.
  const parts: string[] = [];
  let anyArrow = false;
  for (const [k, d] of Object.entries(page.data)) {
    const json = scriptJson(d.rows);
    const enc = encode?.(d.rows, d.columns, json);
    if (enc) anyArrow = true;
    parts.push(`${scriptJson(k)}:{"columns":${scriptJson(d.columns)},${enc ? `"arrow":${scriptJson(enc.arrow)}` : `"rows":${json}`}}`);
  }
  const payload = `{"charts":${scriptJson(page.charts)},"data":{${parts.join(',')}}}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<meta name="generator" content="servelab">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
<noscript><p>The charts need JavaScript; the tables are complete without it.</p></noscript>
${page.body}
${page.about ? `<section class="about"><h2>About this run</h2>\n${page.about}\n</section>` : ''}
${page.footer ? `<footer>${escapeHtml(page.footer)}</footer>` : ''}
<script type="application/json" id="report-data">${payload}</script>
<script>${inlineLibraries()}</script>
${anyArrow ? `<script>${inlineArrow()}</script>\n` : ''}<script>${PAGE_BOOT}</script>
</body>
</html>
`;
}

/** A report of sections (text, a chart, a table) as one HTML document, through the page shell of renderPage. */
export function renderReport(report: Report): string {
  const data: Page['data'] = {};
  const charts: PageChart[] = [];
  const sections = report.sections.map((s, i) => {
    const parts = [`<h2>${escapeHtml(s.title)}</h2>`];
    for (const para of (s.text ?? '').split(/\n\s*\n/).filter((p) => p.trim())) parts.push(`<p>${escapeHtml(para.trim())}</p>`);
    if (s.chart) {
      const id = `chart-${i}`;
      data[id] = { columns: [...new Set(s.chart.data.flatMap((r) => Object.keys(r)))], rows: s.chart.data };
      const { data: _drop, ...spec } = s.chart.spec as TopLevelSpec & { data?: unknown };
      charts.push({ id, spec: spec as TopLevelSpec, data: id, renderer: 'svg' });
      parts.push(`<div class="chart" id="${id}"></div>`);
      parts.push(download(id, s.chart.csvName ?? s.title, s.chart.data.length));
    }
    if (s.table) {
      const id = `table-${i}`;
      data[id] = { columns: s.table.columns.map((c) => c.key), rows: s.table.rows };
      parts.push(tableHtml(s.table, id));
      parts.push(download(id, s.table.csvName ?? s.title, s.table.rows.length));
    }
    return `<section id="s${i}">\n${parts.join('\n')}\n</section>`;
  });
  const facts = report.facts?.length
    ? `<dl class="facts">${report.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(formatValue(v))}</dd>`).join('')}</dl>`
    : '';
  const subtitle = report.subtitle ? `<p class="subtitle">${escapeHtml(report.subtitle)}</p>` : '';
  return renderPage({ title: report.title, body: `${subtitle}\n${facts}\n${sections.join('\n')}`, charts, data, footer: report.footer });
}

function download(id: string, name: string, n: number): string {
  return `<div class="download"><a href="#" data-csv="${id}" download="${escapeHtml(slug(name))}.csv">Download the data (CSV, ${n} rows)</a></div>`;
}
