// Opens an HTML file in headless Debian Chromium (playwright-core) and reports what a reader
// would see: console errors, any request that is not file://, and the marks each chart drew.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether browser tests can run: fail in CI when Chromium is missing, skip otherwise. */
export function chromiumAvailable(env = process.env): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (env.CI === 'true' || env.CI === '1') throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  return false;
}

export interface PageCheck {
  title: string;
  consoleErrors: string[];
  failedRequests: string[];
  /** Requests to anything but file:, data: or blob: URLs (a self-contained page makes none). */
  nonFileRequests: string[];
  chartCount: number;
  chartsFailed: number;
  /** Drawn items in the data marks of each chart, in page order. */
  markCounts: number[];
  /** Total of markCounts. */
  markCount: number;
}

export interface OpenOptions {
  /** Also save a screenshot here. */
  screenshot?: string;
  /** Extra work on the open page before it closes (e.g. click a download link). */
  inspect?: (page: Page) => Promise<void>;
  timeoutMs?: number;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Opens `file` via file://, waits until every chart has drawn (or failed), and reports. */
export async function openInChromium(file: string, opts: OpenOptions = {}, browser?: Browser): Promise<PageCheck> {
  const own = !browser;
  const b = browser ?? (await launchChromium());
  const context = await b.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 }, userAgent: undefined });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const nonFileRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!/^(file|data|blob):/.test(r.url())) nonFileRequests.push(r.url());
  });
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
  try {
    await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: 'load' });
    await page.waitForFunction(
      () => {
        const c = (window as unknown as { __charts?: { total: number; done: number; failed: number } }).__charts;
        return !c || c.done + c.failed >= c.total;
      },
      undefined,
      { timeout: opts.timeoutMs ?? 20_000 },
    );
    const state = await page.evaluate(() => {
      const c = (window as unknown as { __charts?: { total: number; done: number; failed: number } }).__charts;
      const charts = Array.from(document.querySelectorAll('.chart'));
      return {
        title: document.title,
        chartsFailed: c?.failed ?? 0,
        markCounts: charts.map((el) => el.querySelectorAll('svg g.role-mark:not(.mark-group) > *').length),
      };
    });
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    if (opts.inspect) await opts.inspect(page);
    return {
      title: state.title,
      consoleErrors,
      failedRequests,
      nonFileRequests,
      chartCount: state.markCounts.length,
      chartsFailed: state.chartsFailed,
      markCounts: state.markCounts,
      markCount: state.markCounts.reduce((a, b) => a + b, 0),
    };
  } finally {
    await context.close();
    if (own) await b.close();
  }
}

export const tmpFile = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-browser-')), name);
