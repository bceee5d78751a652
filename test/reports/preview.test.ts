// `servelab notebook preview`: serves the page on 127.0.0.1, re-renders when the notebook changes
// (the page polls /__version and reloads), and shows a render error as the page until fixed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPORTS_DIR } from '../../reports/notebook/parse.ts';
import { startPreview } from '../../reports/notebook/preview.ts';
import { SAMPLE_RUN } from '../helpers/notebook-runs.ts';

describe('notebook preview', () => {
  it('serves the page, re-renders on save, and shows an error until the notebook renders again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-preview-'));
    const file = path.join(dir, 'nb.md');
    fs.copyFileSync(path.join(REPORTS_DIR, 'examples', 'ttft.md'), file);
    const server = await startPreview(file, { runs: [SAMPLE_RUN], derived: path.join(dir, 'derived'), log: () => {}, intervalMs: 60_000 });
    onTestFinished(async () => {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = async () => (await fetch(server.url)).text();
    let html = await page();
    expect(html).toContain('<title>TTFT per endpoint</title>');
    expect(html).toContain("fetch('/__version')");
    expect(html).toContain("connect-src 'self'");
    expect(await (await fetch(new URL('/__version', server.url))).text()).toBe('1');
    expect(await server.check()).toBe(false); // nothing changed

    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('title: TTFT per endpoint', 'title: TTFT, edited'));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 2000));
    expect(await server.check()).toBe(true);
    expect(server.version()).toBe(2);
    html = await page();
    expect(html).toContain('<title>TTFT, edited</title>');

    fs.writeFileSync(file, text.replace('from latency_summary where phase', 'from latency_sumary where phase'));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 4000));
    expect(await server.check()).toBe(true);
    html = await page();
    expect(html).toContain('The notebook did not render');
    expect(html).toMatch(/nb\.md:\d+: sql cell headline: Catalog Error/);
    expect((await fetch(new URL('/other', server.url))).status).toBe(404);
  });
});
