// The latency report of the sample run in headless Chromium: every chart draws marks, the
// console stays clean, nothing but file:// is requested, and the CSV download works.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { runStages } from '../../analysis/stages.ts';
import { renderReport } from '../../reports/html.ts';
import { LATENCY_STAGES, buildLatencyReport, type LatencyStage } from '../../reports/latency-report.ts';
import { specRegistry } from '../../reports/specs/index.ts';
import { chromiumAvailable, launchChromium, openInChromium, tmpFile } from '../helpers/browser.ts';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/samples/runs/latency/sample-001');

describe.skipIf(!chromiumAvailable())('reports in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart of the sample run report with no console errors and no network', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-derived-'));
    const results = await runStages({ runDir: SAMPLE, outDir, stages: LATENCY_STAGES, log: () => {} });
    const outputs = Object.fromEntries(results.map((r) => [r.stage, r.output])) as Record<LatencyStage, string>;
    const file = tmpFile('report.html');
    fs.writeFileSync(file, renderReport(await buildLatencyReport(SAMPLE, outputs)));
    let csv = '';
    const page = await openInChromium(
      file,
      {
        inspect: async (p) => {
          const [download] = await Promise.all([p.waitForEvent('download'), p.click('a[data-csv="table-0"]')]);
          csv = fs.readFileSync((await download.path())!, 'utf8');
        },
      },
      browser,
    );
    expect(page.consoleErrors).toEqual([]);
    expect(page.failedRequests).toEqual([]);
    expect(page.nonFileRequests).toEqual([]);
    expect(page.chartsFailed).toBe(0);
    expect(page.chartCount).toBe(5);
    for (const n of page.markCounts) expect(n).toBeGreaterThan(0);
    expect(page.title).toBe('Latency report — sample-001');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^run,endpoint,phase,requests,ok,failed/);
    expect(lines).toHaveLength(5); // header + 2 endpoints × 2 phases
  });

  it('runs no injected markup and draws every registered spec', async () => {
    const evil = '</script><script>console.error("injected")</script><img src=x onerror="console.error(1)">';
    const file = tmpFile('specs.html');
    fs.writeFileSync(
      file,
      renderReport({
        title: evil,
        facts: [['note', evil]],
        sections: specRegistry.map((s) => ({ title: `${s.name} ${evil}`, text: evil, chart: { spec: s.build(), data: s.sample().map((r) => ({ ...r, note: evil })) } })),
      }),
    );
    const page = await openInChromium(file, {}, browser);
    expect(page.title).toBe(evil);
    expect(page.consoleErrors).toEqual([]);
    expect(page.nonFileRequests).toEqual([]);
    expect(page.chartCount).toBe(specRegistry.length);
    for (const n of page.markCounts) expect(n).toBeGreaterThan(0);
  });
});
