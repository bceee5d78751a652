// Every built-in notebook (reports/*.md) rendered on its test run and opened in headless Chromium:
// every chart draws marks, the console stays clean, nothing but file: is requested, no raw JSON
// is on the page, and a CSV download holds the cell's rows. Also: injected markup never runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { renderReport } from '../../reports/html.ts';
import { builtinNotebooks, REPORTS_DIR } from '../../reports/notebook/parse.ts';
import { renderNotebook } from '../../reports/notebook/render.ts';
import { chromiumAvailable, launchChromium, openInChromium, tmpFile } from '../helpers/browser.ts';
import { runFor } from '../helpers/notebook-runs.ts';

const quiet = () => {};

describe.skipIf(!chromiumAvailable())('notebooks in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it.each(builtinNotebooks())('reports/%s.md draws every chart with no console error and no network', async (name) => {
    const runDir = await runFor(name);
    const derived = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-nb-derived-'));
    const r = await renderNotebook(path.join(REPORTS_DIR, `${name}.md`), { runs: [runDir], derived, log: quiet });
    expect(r.warnings).toEqual([]); // every spec compiles without a Vega-Lite warning
    const file = tmpFile(`${name}.html`);
    fs.writeFileSync(file, r.html);
    let text = '';
    let csv = '';
    const firstCsv = r.html.match(/data-csv="([^"]+)"/)?.[1];
    const page = await openInChromium(
      file,
      {
        inspect: async (p) => {
          text = await p.evaluate(() => document.body.innerText);
          if (!firstCsv) return;
          const [download] = await Promise.all([p.waitForEvent('download'), p.click(`a[data-csv="${firstCsv}"]`)]);
          csv = fs.readFileSync((await download.path())!, 'utf8');
        },
      },
      browser,
    );
    expect(page.consoleErrors).toEqual([]);
    expect(page.failedRequests).toEqual([]);
    expect(page.nonFileRequests).toEqual([]);
    expect(page.chartsFailed).toBe(0);
    expect(page.chartCount).toBe(r.html.match(/<div class="chart" id=/g)?.length ?? 0);
    expect(page.chartCount).toBeGreaterThan(0);
    for (const n of page.markCounts) expect(n).toBeGreaterThan(0);
    // No raw JSON for a reader: no {"key": … in the visible text (SQL disclosures are closed).
    expect(text).not.toMatch(/\{\s*"[^"]+"\s*:/);
    // The finding comes first: the first paragraph under the title is the headline cell's sentence.
    const headline = r.cells.get('headline');
    expect(headline?.rows).toHaveLength(1);
    expect(text.split('\n').filter((l) => l.trim())[1]).toBe(String(headline!.rows[0]!.sentence));
    if (firstCsv) {
      const rows = csv.trim().split(/\r?\n/);
      expect(rows[0]).toBe(r.cells.get(firstCsv)!.columns.join(','));
      expect(rows).toHaveLength(r.cells.get(firstCsv)!.rows.length + 1);
    }
  });

  it('runs no injected markup', async () => {
    const evil = '</script><script>console.error("injected")</script><img src=x onerror="console.error(1)">';
    const file = tmpFile('evil.html');
    fs.writeFileSync(
      file,
      renderReport({
        title: evil,
        facts: [['note', evil]],
        sections: [
          {
            title: `chart ${evil}`,
            text: evil,
            chart: { spec: { mark: 'point', encoding: { x: { field: 'x', type: 'quantitative', title: 'x (s)' }, y: { field: 'note', type: 'nominal' } } } as never, data: [{ x: 1, note: evil }] },
          },
        ],
      }),
    );
    const page = await openInChromium(file, {}, browser);
    expect(page.title).toBe(evil);
    expect(page.consoleErrors).toEqual([]);
    expect(page.nonFileRequests).toEqual([]);
    expect(page.markCounts).toEqual([1]);
  });
});
