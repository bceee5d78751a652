// Benchmark: the latency_summary stage over a finalized run of 10,000,000 requests in Parquet
// (made with DuckDB SQL from range()), first alone, then with streamed chunks for a share of them (ITL).
// Prints seconds (wall and this process's CPU, which counts DuckDB's threads) and the load average;
// never asserts. Chunks are optional per run; a run that logs every chunk of 10M requests would hold
// about output_tokens chunks each (here 16–79, ~48 on average: ~480M rows), far past this figure's
// scale, so the chunked figure uses a share of requests (BENCH_CHUNKED, 0.1) × BENCH_CHUNKS (16) each.
// Env: BENCH_REQUESTS (10000000), BENCH_CHUNKED, BENCH_CHUNKS; BENCH_KEEP=1 keeps the generated run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlQuote } from '../analysis/catalog.ts';
import { runStages } from '../analysis/stages.ts';
import { tables, type TableDef } from '../core/schema.ts';

const N = Number(process.env.BENCH_REQUESTS ?? 10_000_000);
const CHUNKED = Number(process.env.BENCH_CHUNKED ?? 0.1);
const PER = Number(process.env.BENCH_CHUNKS ?? 16);

// Realistic columns for the generated rows; every other contract column is NULL of its type.
const requestCols: Record<string, string> = {
  run: `'bench'`,
  shard: '0',
  request_id: `'r' || i`,
  endpoint: `['llama-8b', 'qwen-32b', 'mixtral', 'llama-70b'][(i % 4) + 1]`,
  protocol: `'openai-chat'`,
  model: `'m' || (i % 4)`,
  phase: `CASE WHEN i < ${N} / 50 THEN 'warmup' ELSE 'main' END`,
  prompt_tokens_server: `(64 + hash(i) % 1024)::INTEGER`,
  output_tokens: `(${PER} + hash(i * 3) % 64)::INTEGER`,
  output_tokens_server: `(${PER} + hash(i * 3) % 64)::INTEGER`,
  scheduled_ns: `i * 1000000`,
  sent_ns: `i * 1000000 + hash(i * 5) % 200000`,
  first_token_ns: `CASE WHEN i % 200 = 7 THEN NULL ELSE i * 1000000 + 20000000 + hash(i * 7) % 80000000 END`,
  last_token_ns: `CASE WHEN i % 200 = 7 THEN NULL ELSE i * 1000000 + 120000000 + hash(i * 11) % 900000000 END`,
  done_ns: `i * 1000000 + 1030000000`,
  status: `CASE WHEN i % 200 = 7 THEN 'timeout' WHEN i % 500 = 3 THEN 'http_error' ELSE 'ok' END`,
  http_status: `CASE WHEN i % 500 = 3 THEN 503 ELSE 200 END`,
};

function selectFor(t: TableDef, cols: Record<string, string>): string {
  return Object.entries(t.fields)
    .map(([name, f]) => `${cols[name] ?? `NULL::${f.type}`} AS ${name}`)
    .join(', ');
}

/** Builds latency_summary once and prints wall, CPU (DuckDB runs in this process) and load. */
async function stageFigure(runDir: string, dir: string, label: string): Promise<void> {
  const load0 = os.loadavg()[0]!;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await runStages({ runDir, outDir: path.join(dir, 'derived'), stages: ['latency_summary'], force: true, log: (l) => console.log(`  ${l}`) });
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Wall time depends on what else the cores run; CPU seconds much less so.
  console.log(
    `latency_summary over ${label}: ${s.toFixed(2)} s wall (target ≤ 5 s), ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU on ` +
      `${os.availableParallelism()} cores, load average ${load0.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}, peak RSS so far ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-bench-ls-'));
  const runDir = path.join(dir, 'runs', 'bench', 'bench');
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(
    path.join(runDir, 'manifest.json'),
    JSON.stringify({ run: 'bench', experiment: 'bench', status: 'complete', started_unix_ms: 0, tool_version: '0', host: 'bench' }),
  );
  const chunkedRequests = Math.round(N * CHUNKED);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  let t0 = performance.now();
  await conn.run(`COPY (SELECT ${selectFor(tables.requests, requestCols)} FROM range(${N}) t(i)) TO ${sqlQuote(path.join(runDir, 'requests.parquet'))} (FORMAT parquet)`);
  const mb = (f: string) => (fs.statSync(path.join(runDir, f)).size / 1e6).toFixed(0);
  console.log(`generated ${N.toLocaleString('en-US')} requests (${mb('requests.parquet')} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await stageFigure(runDir, dir, `${N.toLocaleString('en-US')} requests, no chunks`);

  // Chunks of the first requests (ok ones included): PER chunks each, about 12 ms apart.
  const chunkCols: Record<string, string> = {
    run: `'bench'`,
    shard: '0',
    request_id: `'r' || r`,
    idx: 'k::INTEGER',
    t_ns: `r * 1000000 + 20000000 + k * 12000000 + hash(r * 13 + k) % 3000000`,
    tokens: '1',
  };
  t0 = performance.now();
  await conn.run(
    `COPY (SELECT ${selectFor(tables.chunks, chunkCols)} FROM range(${chunkedRequests}) a(r), range(${PER}) b(k)) TO ${sqlQuote(path.join(runDir, 'chunks.parquet'))} (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
  console.log(
    `generated ${(chunkedRequests * PER).toLocaleString('en-US')} chunks for ${chunkedRequests.toLocaleString('en-US')} requests (${mb('chunks.parquet')} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await stageFigure(runDir, dir, `${N.toLocaleString('en-US')} requests + ${(chunkedRequests * PER).toLocaleString('en-US')} chunks`);
  if (process.env.BENCH_KEEP) console.log(`kept ${runDir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

await main();
