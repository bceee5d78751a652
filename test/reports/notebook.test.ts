// The notebook renderer on the sample run: a golden page of the worked example (reports/examples/
// ttft.md), parameters, includes, Arrow chart data, and what bad input gets (file, line, the
// valid choices; nothing written where the report goes).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../core/errors.ts';
import { run as notebookCmd } from '../../reports/cmd-notebook.ts';
import { pageEncoding, rowsToArrow } from '../../reports/notebook/arrow.ts';
import { parseNotebook, REPORTS_DIR } from '../../reports/notebook/parse.ts';
import { renderNotebook } from '../../reports/notebook/render.ts';
import { checkGolden } from '../helpers/golden.ts';
import { SAMPLE_RUN } from '../helpers/notebook-runs.ts';

const EXAMPLE = path.join(REPORTS_DIR, 'examples', 'ttft.md');
const quiet = () => {};
const tmps: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-nb-'));
  tmps.push(d);
  return d;
};
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of tmps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A notebook file in a temp folder with the given body under a front matter. */
function notebook(body: string, front = 'title: Test'): string {
  const file = path.join(tmpDir(), 'nb.md');
  fs.writeFileSync(file, `---\n${front}\n---\n${body}`);
  return file;
}

const render = (file: string, extra: Partial<Parameters<typeof renderNotebook>[1]> = {}) =>
  renderNotebook(file, { runs: [SAMPLE_RUN], derived: tmpDir(), log: quiet, ...extra });

async function failure(p: Promise<unknown>): Promise<CliError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

describe('notebook parse', () => {
  it('finds cells with their file lines through markdown-it, leaves other code blocks as prose', () => {
    const nb = parseNotebook('x.md', '---\ntitle: T\nparams:\n  k: 3\n---\nText\n\n```sql a\nselect 1\n```\n\n```js\nnot a cell\n```\n\n```table a\n```\n');
    expect(nb.front).toEqual({ title: 'T', params: { k: 3 }, runs: undefined, fallback: undefined });
    expect(nb.cells.map((c) => [c.kind, c.line])).toEqual([
      ['sql', 8],
      ['table', 16],
    ]);
  });

  it('names the file, line and the valid keys on a bad front matter or cell', () => {
    expect(() => parseNotebook('x.md', '---\ntitle: T\nparms: {}\n---\n')).toThrow("x.md:3: front matter: unknown key 'parms' (keys: title, runs, params, fallback)");
    expect(() => parseNotebook('x.md', 'no front matter')).toThrow('x.md:1: front matter: missing');
    expect(() => parseNotebook('x.md', '---\ntitle: T\n---\n\n```sql\nselect 1\n```\n')).toThrow('x.md:5: sql cell: missing name');
    expect(() => parseNotebook('x.md', '---\ntitle: T\n---\n```vega-lite\nmark: point\n```\n')).toThrow('x.md:4: vega-lite cell: data: give the SQL cell to draw');
    expect(() => parseNotebook('x.md', '---\ntitle: T\n---\n```sql a\nselect 1\n```\n```sql a\nselect 2\n```\n')).toThrow("x.md:7: sql cell: 'a' is already the name of the cell at line 4");
  });
});

describe('notebook render', () => {
  it('renders the worked example on the sample run (golden page body)', async () => {
    const r = await render(EXAMPLE);
    expect(r.title).toBe('TTFT per endpoint'); // the sample's servers are external, not the simulated one
    expect(r.warnings).toEqual([]);
    const body = r.html.slice(r.html.indexOf('<h1>'), r.html.indexOf('<section class="about">'));
    const g = checkGolden('notebook', 'ttft-body.html', `${body.trim()}\n`);
    expect(g.ok, g.message).toBe(true);
    // The values come from the stage: the headline is the endpoint with the lowest TTFT p50.
    const rows = r.cells.get('ttft')!.rows.filter((x) => x.stat === 'p50');
    const best = rows.reduce((a, b) => (Number(a.value_ms) <= Number(b.value_ms) ? a : b));
    expect(String(r.cells.get('headline')!.rows[0]!.sentence)).toMatch(new RegExp(`^${best.endpoint} has the lowest TTFT p50: ${Number(best.value_ms).toFixed(1)} ms`));
  });

  it('takes --param values as SQL literals of the default type, and lists the parameters on a typo', async () => {
    const main = await render(EXAMPLE);
    const warm = await render(EXAMPLE, { params: ['phase=warmup'] });
    expect(warm.html).toContain('warmup phase.');
    expect(warm.cells.get('headline')!.rows).not.toEqual(main.cells.get('headline')!.rows);
    expect((await failure(render(EXAMPLE, { params: ['phse=warmup'] }))).message).toBe("--param phse=warmup: parameter 'phse' is not one of 'phase' (did you mean 'phase'?)");
    const quote = await render(notebook("```sql v\nselect ${params.s} as s, ${params.n} + 1 as n\n```\n\n${v.s} ${v.n}\n", "title: T\nparams:\n  s: x\n  n: 1"), { params: ["s=it's", 'n=41'] });
    expect(quote.cells.get('v')!.rows).toEqual([{ s: "it's", n: 42 }]);
    expect((await failure(render(EXAMPLE, { params: ['phase'] }))).message).toBe('--param phase: give NAME=VALUE');
  });

  it('a SQL error names the notebook, the cell line, DuckDB message and the views', async () => {
    const file = notebook('Intro\n\n```sql ok\nselect 1 as a\n```\n\n```sql bad\nselect * from latency_sumary\n```\n');
    const err = await failure(render(file));
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:10: sql cell bad: Catalog Error: Table with name latency_sumary does not exist`));
    expect(err.details[0]).toMatch(/^views: requests, chunks, .*request_metrics/);
    expect(err.details[1]).toBe('earlier cells: ok');
  });

  it('a chart naming an unknown cell or field lists the valid ones; so does a value in prose', async () => {
    const cell = '```sql t\nselect 1 as x, 2 as y\n```\n\n';
    let err = await failure(render(notebook(`${cell}\`\`\`vega-lite\n{"data": {"name": "tt"}, "mark": "point"}\n\`\`\`\n`)));
    expect(err.message).toMatch(/nb\.md:8: vega-lite cell: data\.name: cell 'tt' is not one of 't' \(did you mean 't'\?\)$/);
    err = await failure(render(notebook(`${cell}\`\`\`vega-lite\ndata: {name: t}\nmark: point\nencoding:\n  x: {field: z, type: quantitative}\n\`\`\`\n`)));
    expect(err.message).toMatch(/nb\.md:8: vega-lite cell: field 'z' is not one of 'x', 'y' \(did you mean 'x'\?\) \(columns of cell t\)$/);
    err = await failure(render(notebook(`${cell}Value \${t.q}\n`)));
    expect(err.message).toMatch(/\$\{t\.q\}: column 'q' is not one of 'x', 'y'/);
    err = await failure(render(notebook('```sql two\nselect 1 as a union all select 2\n```\n\n${two.a}\n')));
    expect(err.message).toMatch(/nb\.md:8: \$\{two\.a\}: cell two \(line 4\) returned 2 rows; a value in prose needs exactly one/);
    err = await failure(render(notebook(`${cell}\`\`\`table t\ncolumns: [x, w]\n\`\`\`\n`)));
    expect(err.message).toMatch(/table cell: column 'w' is not one of 'x', 'y'/);
  });

  it('an unknown run gets the run store message, and nothing is written where the report goes', async () => {
    const out = path.join(tmpDir(), 'out.html');
    const err = await failure(notebookCmd(['render', EXAMPLE, '--run', 'sample-01', '--data', path.join(SAMPLE_RUN, '../../..'), '--out', out]));
    expect(err.message).toMatch(/^run 'sample-01' not found under /);
    expect(err.details[0]).toBe('close matches: latency/sample-001');
    const bad = notebook('```sql x\nselect nope\n```\n');
    await failure(notebookCmd(['render', bad, '--run', SAMPLE_RUN, '--derived', tmpDir(), '--out', out]));
    expect(fs.existsSync(out)).toBe(false);
    expect((await failure(notebookCmd(['render', 'latncy', '--run', SAMPLE_RUN]))).message).toMatch(/notebook: 'latncy' is not one of .*'latency'.*\(did you mean 'latency'\?\)/);
  });

  it('collapses a table over 20 rows and offers every row as CSV', async () => {
    const r = await render(notebook('```sql many\nselect range as i from range(25)\n```\n\n```table many\n```\n'));
    const table = r.html.slice(r.html.indexOf('<table id="table-0"'));
    expect(table.slice(0, table.indexOf('</table>')).match(/<tr>/g)).toHaveLength(21); // header + 20
    expect(r.html).toContain('<summary>Show the other 5 rows</summary>');
    expect(r.html).toContain('Download many (CSV, 25 rows)');
  });

  it('splices an included section when its view has rows, else shows its fallback', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'sections'));
    fs.writeFileSync(path.join(dir, 'sections', 'extra.md'), '---\nfallback: No extra for this run.\n---\n### Extra\n\n```sql extra_n\nselect count(*) as n from requests\n```\n\n${extra_n.n} requests.\n');
    const file = path.join(dir, 'nb.md');
    fs.writeFileSync(file, '---\ntitle: T\n---\nTop\n\n```include sections/extra.md when=requests\n```\n\n```include sections/extra.md when=sim_steps\n```\n');
    const r = await render(file);
    expect(r.html).toContain('<h3>Extra</h3>');
    expect(r.html).toContain('<p>227 requests.</p>');
    expect(r.html).toContain('<aside class="fallback">No extra for this run.</aside>'); // the sample has no sim_steps
  });

  it('escapes prose, values and SQL: no markup from the notebook or the data reaches the page', async () => {
    const r = await render(notebook('<script>alert(1)</script>\n\n```sql v\nselect \'<img src=x onerror=alert(1)>\' as s\n```\n\nValue: ${v.s}\n', "title: '<b>T</b>'"));
    expect(r.html).not.toMatch(/<script>alert|<img src=x|<b>T/);
    expect(r.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.html).toContain('<title>&lt;b&gt;T&lt;/b&gt;</title>');
  });
});

describe('chart data as Arrow', () => {
  it('encodes a large cell as Arrow IPC when smaller than JSON, and reads back the same rows', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ backend: i % 2 ? 'baseline' : 'all2all', x: i / 7, n: i, ok: i % 3 === 0, note: i % 5 ? null : 'x' }));
    const columns = ['backend', 'x', 'n', 'ok', 'note'];
    const json = JSON.stringify(rows);
    const enc = pageEncoding(rows, columns, json);
    expect(enc).toBeDefined();
    expect(enc!.arrow.length).toBeLessThan(json.length / 2);
    const back = tableFromIPC(Buffer.from(enc!.arrow, 'base64'));
    expect(back.numRows).toBe(5000);
    expect(back.toArray().map((r) => r.toJSON())).toEqual(rows);
  });

  it('keeps JSON for small cells and for columns that are not scalars', () => {
    expect(pageEncoding([{ a: 1 }], ['a'], '[{"a":1}]')).toBeUndefined();
    expect(rowsToArrow(Array.from({ length: 100 }, () => ({ a: [1, 2] })), ['a'])).toBeUndefined();
  });
});

describe('notebook new', () => {
  it('copies a built-in notebook, refuses to overwrite, and lists the built-ins on a typo', async () => {
    const dir = tmpDir();
    const cwd = process.cwd();
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.chdir(dir);
    try {
      expect(await notebookCmd(['new', 'mine', '--from', 'moe'])).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'mine.md'), 'utf8')).toBe(fs.readFileSync(path.join(REPORTS_DIR, 'moe.md'), 'utf8'));
      expect((await failure(notebookCmd(['new', 'mine', '--from', 'moe']))).message).toMatch(/mine\.md: already exists \(--force overwrites it\)/);
      expect((await failure(notebookCmd(['new', 'x', '--from', 'mo']))).message).toMatch(/--from: 'mo' is not one of .*'moe'/);
    } finally {
      process.chdir(cwd);
    }
  });
});
