// Benchmark of report notebooks (2 shared cores; numbers vary with the machine's load):
// 1. render reports/moe.md over a 50-dataset MoE run (2 backends × 50 datasets × 30 requests of
//    128 streamed tokens, 3,000 requests, 384,000 chunks, about 3.3 M gate-load rows: the size the
//    pipeline's full run records). The run is synthesized from records by DuckDB SQL into raw JSONL
//    and finalized as the pipeline does (not measured by a server); timings exclude Node's start.
//    Target: ≤ 3 s with the stages fresh (what `servelab report` costs after the pipeline built them);
//    the cold figure includes building every moe_* stage.
// 2. a scatter of 1,000,000 requests: page size and time to draw in headless Chromium (canvas),
//    chart data as Arrow IPC vs JSON.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { finalizeRun } from '../analysis/runstore.ts';
import { createRun } from '../core/run.ts';
import { REPORTS_DIR } from '../reports/notebook/parse.ts';
import { renderNotebook } from '../reports/notebook/render.ts';
import { pathToFileURL } from 'node:url';
import { chromiumAvailable, launchChromium } from '../test/helpers/browser.ts';

const keep = process.env.NOTEBOOK_BENCH_DIR;
const root = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-nb-bench-'));
const quiet = () => {};
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

async function synthesizeMoeRun(): Promise<string> {
  const h = createRun({ experiment: 'moe', runId: 'bench-50', dataDir: root, config: { ep_size: 4, count: 50, num_prompts: 30, output_len: 128 }, servers: [{ kind: 'sim', name: 'baseline' }, { kind: 'sim', name: 'all2all' }], command: 'bench/notebook.bench.ts (synthesized)' });
  const raw = path.join(h.dir, 'raw');
  fs.mkdirSync(path.join(raw, 'gates'), { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  // datasets: score and strategy per index; requests: 30 per backend × dataset, 128 one-token chunks
  await c.run(`CREATE TABLE ds AS SELECT d, round(0.05 + 0.9 * hash(d) % 1000 / 1000.0, 4) AS score,
    ['single_domain', 'few_domains', 'skewed_mix', 'uniform_mix', 'repeat_one'][1 + d % 5] AS strategy FROM range(1, 51) t(d)`);
  await c.run(`CREATE TABLE req AS SELECT b, d, score, strategy, printf('%03d_%.4f', d, score) AS dataset, k,
      b || '-' || d || '-' || k AS request_id,
      ((d * 2 + (b = 'all2all')::INT) * 10e9 + k * 3e7)::BIGINT AS t0,
      (12e6 + 40e6 * score + (hash(b, d, k) % 5e6) + (b = 'all2all')::INT * 8e6)::BIGINT AS ttft,
      (12.4e6 + (b = 'all2all')::INT * 0.9e6 + hash(k, d, b) % 3e5)::BIGINT AS tpot
    FROM ds, (VALUES ('baseline'), ('all2all')) v(b), range(30) r(k)`);
  await c.run(`COPY (SELECT 'bench-50' AS run, request_id, b AS endpoint, 'openai-completions' AS protocol, 'main' AS phase, dataset,
      128 AS output_tokens, 128 AS chunks, t0 AS scheduled_ns, t0 + 100000 AS sent_ns, t0 + 100000 + ttft AS first_token_ns,
      t0 + 100000 + ttft + 127 * tpot AS last_token_ns, t0 + 200000 + ttft + 127 * tpot AS done_ns, 'ok' AS status,
      json_object('backend', b, 'predicted_score', score, 'dataset_index', d, 'strategy', strategy) AS extra
    FROM req) TO ${q(path.join(raw, 'requests.jsonl'))} (FORMAT json)`);
  await c.run(`COPY (SELECT 'bench-50' AS run, request_id, i AS idx, t0 + 100000 + ttft + i * tpot AS t_ns, 1 AS tokens
    FROM req, range(128) t(i)) TO ${q(path.join(raw, 'chunks.jsonl'))} (FORMAT json)`);
  // gate loads: 131 steps per backend × dataset, 32 layers × 8 experts, skewed by the score
  await c.run(`COPY (SELECT 'bench-50' AS run, b || '/' || dataset || '/gate_logs_0' AS source, s AS step, l AS layer, e AS expert,
      (40 + (hash(b, d, s, l, e) % 60) * (1 + score * (e = l % 8)::INT * 3))::BIGINT AS tokens,
      CASE WHEN s = 0 THEN 4096 ELSE 640 END AS step_tokens, (s * 15e6)::BIGINT AS t_ns
    FROM (SELECT DISTINCT b, d, score, dataset FROM req), range(131) a(s), range(32) c(l), range(8) x(e))
    TO ${q(path.join(raw, 'gates', 'gates.jsonl'))} (FORMAT json)`);
  c.closeSync();
  db.closeSync();
  h.finish('complete');
  await finalizeRun(h.dir);
  return h.dir;
}

/** Opens the page in headless Chromium: seconds to the load event (HTML parsed, data decoded) and until the chart has drawn. */
async function timeDraw(file: string): Promise<string> {
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    const t0 = performance.now();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 600_000 });
    const loaded = (performance.now() - t0) / 1000;
    const state = await page
      .waitForFunction(() => { const c = (window as unknown as { __charts?: { total: number; done: number; failed: number } }).__charts; return c && c.done + c.failed >= c.total ? c : null; }, undefined, { timeout: 600_000, polling: 250 })
      .then((h) => h.jsonValue() as Promise<{ done: number; failed: number }>);
    const drawn = (performance.now() - t0) / 1000;
    return `load event ${loaded.toFixed(1)} s, chart drawn at ${drawn.toFixed(1)} s (${state.failed ? 'FAILED' : 'ok'}${errors.length ? `; console: ${errors[0]}` : ''})`;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  console.log('2 shared cores; render timings in-process (no Node start).');
  let t = performance.now();
  const existing = path.join(root, 'runs', 'moe', 'bench-50');
  const runDir = keep && fs.existsSync(path.join(existing, '.finalized')) ? existing : await synthesizeMoeRun();
  console.log(`synthesized a 50-dataset MoE run in ${((performance.now() - t) / 1000).toFixed(1)} s: ${runDir}`);
  const moe = path.join(REPORTS_DIR, 'moe.md');
  t = performance.now();
  const cold = await renderNotebook(moe, { runs: [runDir], force: true, log: quiet });
  const coldS = (performance.now() - t) / 1000;
  // The first render in a process also loads the libraries (vega-lite's compiler, DuckDB): what a `servelab report` pays.
  const warm: number[] = [];
  const warmCpu: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const c0 = process.cpuUsage();
    await renderNotebook(moe, { runs: [runDir], log: quiet });
    const c = process.cpuUsage(c0);
    warm.push((performance.now() - t) / 1000);
    warmCpu.push((c.user + c.system) / 1e6);
  }
  warm.sort((a, b) => a - b);
  warmCpu.sort((a, b) => a - b);
  console.log(
    `moe.md on 50 datasets: cold (every moe_* stage built) ${coldS.toFixed(2)} s; stages fresh: median ${warm[1]!.toFixed(2)} s wall (min ${warm[0]!.toFixed(2)}), ` +
      `${warmCpu[1]!.toFixed(2)} s CPU of this process (DuckDB's threads included) [target ≤ 3 s]; load average ${os.loadavg()[0]!.toFixed(1)}; page ${mb(cold.html.length)}`,
  );
  console.log(`  headline: ${String(cold.cells.get('headline')!.rows[0]!.sentence)}`);

  // What a user waits for: `servelab report RUN` in a fresh process (Node start, imports, render, write).
  const cli = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../bin/servelab.js');
  // CPU seconds (user + sys, from /usr/bin/time when there is one) beside the wall time: on a loaded shared host the wall time is mostly waiting.
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const cliTimes: [number, number | undefined][] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const argv = [cli, 'report', runDir, '--out', path.join(root, 'moe.html')];
    const r = timeBin ? spawnSync(timeBin, ['-f', 'cpu %U %S', process.execPath, ...argv], { encoding: 'utf8' }) : spawnSync(process.execPath, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    cliTimes.push([(performance.now() - t) / 1000, cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined]);
  }
  cliTimes.sort((a, b) => a[0] - b[0]);
  const [wall, cpu] = cliTimes[1]!;
  console.log(`servelab report on it (a fresh process each time, stages fresh): median ${wall.toFixed(2)} s wall${cpu === undefined ? '' : `, ${cpu.toFixed(2)} s CPU`} (load average ${os.loadavg()[0]!.toFixed(1)} on this host)`);

  // The scatter: one chart of 1,000,000 requests (TTFT against E2E, two endpoints).
  const nb = path.join(root, 'scatter.md');
  fs.writeFileSync(
    nb,
    '---\ntitle: A million requests\n---\n\n${headline.n} requests.\n\n' +
      "```sql points\nselect case when i % 3 = 0 then 'qwen-32b' else 'llama-8b' end as endpoint,\n" +
      '  round(20 + (hash(i) % 100000) / 1000.0, 3) as ttft_ms, round(400 + (hash(i, 7) % 1000000) / 1000.0, 3) as e2e_ms\nfrom range(1000000) t(i)\n```\n\n' +
      '```sql headline\nselect count(*) as n from points\n```\n\n' +
      '```vega-lite\ndata: {name: points}\nwidth: 600\nheight: 400\nmark: {type: point, size: 2, opacity: 0.3}\nencoding:\n' +
      '  x: {field: e2e_ms, type: quantitative, title: E2E (ms)}\n  y: {field: ttft_ms, type: quantitative, title: TTFT (ms)}\n  color: {field: endpoint, type: nominal, title: endpoint}\n```\n',
  );
  const sample = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../data/samples/runs/latency/sample-001');
  for (const encoding of ['auto', 'json'] as const) {
    t = performance.now();
    const r = await renderNotebook(nb, { runs: [sample], derived: path.join(root, 'derived'), encoding, log: quiet });
    const renderS = (performance.now() - t) / 1000;
    const file = path.join(root, `scatter-${encoding}.html`);
    fs.writeFileSync(file, r.html);
    let draw = 'not measured (no Chromium)';
    if (chromiumAvailable()) draw = await timeDraw(file);
    const label = encoding === 'auto' ? 'Arrow IPC (base64)' : 'JSON';
    console.log(`scatter of 1,000,000 requests, data as ${label}: page ${mb(fs.statSync(file).size)}, render ${renderS.toFixed(1)} s, Chromium ${draw}`);
  }
  if (!keep) fs.rmSync(root, { recursive: true, force: true });
}

await main();
