// `servelab notebook preview`: serves the rendered page on 127.0.0.1 and re-renders it when the
// notebook, a section it includes or the run's files change; the page asks /__version every
// second and reloads itself when the version moved. A render error is shown as the page.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fg from 'fast-glob';
import { errorMessage } from '../../core/errors.ts';
import { escapeHtml } from '../html.ts';
import { readNotebook, REPORTS_DIR } from './parse.ts';
import { renderNotebook, type RenderOptions } from './render.ts';

export interface PreviewServer {
  url: string;
  /** Renders so far (1 after start). */
  version(): number;
  /** Re-checks the watched files now (the timer does it every intervalMs). */
  check(): Promise<boolean>;
  close(): Promise<void>;
}

const RELOAD = `<script>(function(){var v=__VERSION__;setInterval(function(){fetch('/__version').then(function(r){return r.text();}).then(function(t){if(Number(t)!==v)location.reload();}).catch(function(){});},1000);})();</script>`;

/** Files whose change means a re-render: the notebook, its sections, and the runs' records and manifests. */
function watched(file: string, runDirs: string[]): string[] {
  const files = [file];
  try {
    for (const c of readNotebook(file).cells) {
      if (c.kind !== 'include') continue;
      const beside = path.resolve(path.dirname(file), c.file);
      files.push(fs.existsSync(beside) ? beside : path.resolve(REPORTS_DIR, c.file));
    }
  } catch {
    // a notebook that does not parse still gets watched; the error is on the page
  }
  for (const d of runDirs) files.push(...fg.sync(['manifest.json', '*.parquet', 'raw/**/*.jsonl'], { cwd: d, absolute: true }));
  return files;
}

function stamp(files: string[]): string {
  return files.map((f) => (fs.existsSync(f) ? `${f}:${fs.statSync(f).mtimeMs}:${fs.statSync(f).size}` : `${f}:-`)).join('|');
}

export async function startPreview(file: string, opts: RenderOptions & { port?: number; intervalMs?: number }): Promise<PreviewServer> {
  let version = 0;
  let html = '';
  let runDirs: string[] = [];
  let last = '';
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const render = async () => {
    try {
      const r = await renderNotebook(file, { ...opts, log });
      runDirs = r.runDirs;
      html = r.html.replace("default-src 'none';", "default-src 'none'; connect-src 'self';");
    } catch (err) {
      html = `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"><title>notebook error</title><style>body{font:14px system-ui;margin:24px}pre{white-space:pre-wrap;color:#cf222e}</style><h1>The notebook did not render</h1><pre>${escapeHtml(errorMessage(err))}\n${escapeHtml(((err as { details?: string[] }).details ?? []).join('\n'))}</pre><p>Fix it and save: this page reloads itself.</p></body>`;
      log(`render failed: ${errorMessage(err)}`);
    }
    version++;
    last = stamp(watched(file, runDirs));
  };
  await render();
  let busy: Promise<boolean> | undefined;
  const check = (): Promise<boolean> => {
    if (busy) return busy;
    const p = (async () => {
      await Promise.resolve(); // run after `busy` is set, so a synchronous finish clears it
      if (stamp(watched(file, runDirs)) === last) return false;
      await render();
      log(`re-rendered (version ${version})`);
      return true;
    })();
    busy = p;
    void p.finally(() => {
      if (busy === p) busy = undefined;
    }).catch(() => {});
    return p;
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/__version') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(String(version));
      return;
    }
    if (req.url !== '/' && req.url !== '/index.html') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const page = html.replace(/<\/body>\s*<\/html>\s*$|<\/body>$/, `${RELOAD.replace('__VERSION__', String(version))}</body></html>`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page.includes('/__version') ? page : page + RELOAD.replace('__VERSION__', String(version)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const timer = setInterval(() => void check(), opts.intervalMs ?? 500);
  timer.unref();
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    version: () => version,
    check,
    async close() {
      clearInterval(timer);
      await busy;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
