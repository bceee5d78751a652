// What every built-in notebook owes its reader (reports/NOTEBOOKS.md, "What a report owes"),
// checked on the notebook text and on its cells rendered over its test run: the finding first,
// units on every quantitative axis, a legend for every colour/shape encoding, shared scales
// unless the panels show different quantities, correlations with n and an interval.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinNotebooks, readNotebook, REPORTS_DIR } from '../../reports/notebook/parse.ts';
import { renderNotebook } from '../../reports/notebook/render.ts';
import { runFor } from '../helpers/notebook-runs.ts';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => !!v && typeof v === 'object' && !Array.isArray(v);

/** Facet fields whose panels show different quantities (so each may have its own scale). */
const QUANTITY_FACETS = ['metric', 'measure', 'imbalance'];
const UNIT = /\([^)]+\)/;

/** Problems of one Vega-Lite spec, as 'path: problem' lines. */
export function specProblems(spec: unknown): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, where: string, titled: Set<string>) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`, titled));
    if (!isNode(node)) return;
    // resolve independent: only across panels of different quantities
    const resolve = (node.resolve as Node | undefined)?.scale as Node | undefined;
    if (resolve && Object.values(resolve).includes('independent')) {
      const f = node.facet as Node | undefined;
      const fields = [f?.field, (f?.row as Node | undefined)?.field, (f?.column as Node | undefined)?.field].filter(Boolean) as string[];
      if (!fields.some((x) => QUANTITY_FACETS.includes(x))) problems.push(`${where}: independent scales across panels of one quantity (facet ${fields.join(', ') || 'none'}): share them`);
    }
    const enc = node.encoding as Node | undefined;
    if (enc) {
      for (const ch of ['x', 'y']) {
        const e = enc[ch] as Node | undefined;
        if (!e || e.type !== 'quantitative') continue;
        if (typeof e.title === 'string') {
          if (!UNIT.test(e.title)) problems.push(`${where}.encoding.${ch}: title '${e.title}' has no unit in parentheses`);
        } else if (!titled.has(ch)) problems.push(`${where}.encoding.${ch}: quantitative axis without a title`);
      }
      for (const [ch, e] of Object.entries(enc)) {
        if (isNode(e) && 'legend' in e && e.legend === null) problems.push(`${where}.encoding.${ch}: legend: null (every encoding gets a legend)`);
      }
    }
    // In a layer, a channel titled by one layer titles the shared axis for the others.
    let inner = titled;
    if (Array.isArray(node.layer)) {
      inner = new Set(titled);
      for (const l of node.layer as Node[]) {
        const e = l.encoding as Node | undefined;
        for (const ch of ['x', 'y']) if (typeof (e?.[ch] as Node | undefined)?.title === 'string') inner.add(ch);
      }
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'encoding') walk(v, `${where}.${k}`, inner);
  };
  walk(spec, 'spec', new Set());
  return problems;
}

describe('report standards of the built-in notebooks', () => {
  it('the checker finds what it should', () => {
    expect(specProblems({ mark: 'point', encoding: { x: { field: 'a', type: 'quantitative', title: 'value' }, color: { field: 'b', legend: null } } })).toEqual([
      "spec.encoding.x: title 'value' has no unit in parentheses",
      'spec.encoding.color: legend: null (every encoding gets a legend)',
    ]);
    expect(specProblems({ facet: { column: { field: 'backend' } }, resolve: { scale: { y: 'independent' } }, spec: { mark: 'point', encoding: { y: { field: 'v', type: 'quantitative' } } } })).toEqual([
      'spec: independent scales across panels of one quantity (facet backend): share them',
      'spec.spec.encoding.y: quantitative axis without a title',
    ]);
    expect(specProblems({ layer: [{ mark: 'point', encoding: { y: { field: 'v', type: 'quantitative', title: 'TTFT (ms)' } } }, { mark: 'line', encoding: { y: { field: 'v', type: 'quantitative' } } }] })).toEqual([]);
  });

  it.each(builtinNotebooks())('reports/%s.md: finding first, units, legends, shared scales', (name) => {
    const nb = readNotebook(path.join(REPORTS_DIR, `${name}.md`));
    // The first block under the front matter is a paragraph holding the headline value.
    const first = nb.tokens.find((t) => t.type !== 'paragraph_open');
    expect(nb.tokens[0]?.type).toBe('paragraph_open');
    expect(first?.content).toMatch(/^\$\{headline\.\w+\}$/);
    const problems = nb.cells.flatMap((c) => (c.kind === 'vega-lite' ? specProblems(c.spec).map((p) => `${nb.file}:${c.line}: ${p}`) : []));
    expect(problems).toEqual([]);
  });

  it.each(builtinNotebooks())('reports/%s.md: a correlation comes with n and a 95 percent interval', async (name) => {
    const r = await renderNotebook(path.join(REPORTS_DIR, `${name}.md`), { runs: [await runFor(name)], derived: fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-std-')), log: () => {} });
    for (const cell of r.cells.values()) {
      if (!cell.columns.some((c) => /^(pearson|spearman|r2)$/.test(c))) continue;
      expect(cell.columns, `cell ${cell.name}`).toEqual(expect.arrayContaining(['n', 'pearson_lo', 'pearson_hi']));
    }
  });
});
