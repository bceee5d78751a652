// Benchmark: the latency_summary stage over a finalized run of 10,000,000 requests in Parquet
// (made with DuckDB SQL from range()), plus streamed chunks for a share of them for ITL.
// Prints seconds; never asserts. Env: BENCH_REQUESTS (10000000), BENCH_CHUNKED (share of requests with chunks, 0.1), BENCH_CHUNKS (per request, 16),
// BENCH_KEEP=1 keeps the generated run.
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
  // Chunks of the first requests (ok ones included): PER chunks each, about 12 ms apart.
  const chunkCols: Record<string, string> = {
    run: `'bench'`,
    shard: '0',
    request_id: `'r' || r`,
    idx: 'k::INTEGER',
    t_ns: `r * 1000000 + 20000000 + k * 12000000 + hash(r * 13 + k) % 3000000`,
    tokens: '1',
  };
  await conn.run(
    `COPY (SELECT ${selectFor(tables.chunks, chunkCols)} FROM range(${chunkedRequests}) a(r), range(${PER}) b(k)) TO ${sqlQuote(path.join(runDir, 'chunks.parquet'))} (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
  const genS = (performance.now() - t0) / 1000;
  const mb = (f: string) => (fs.statSync(path.join(runDir, f)).size / 1e6).toFixed(0);
  console.log(`generated ${N.toLocaleString('en-US')} requests (${mb('requests.parquet')} MB) and ${(chunkedRequests * PER).toLocaleString('en-US')} chunks for ${chunkedRequests.toLocaleString('en-US')} requests (${mb('chunks.parquet')} MB) in ${genS.toFixed(1)} s`);

  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await runStages({ runDir, outDir: path.join(dir, 'derived'), stages: ['latency_summary'], force: true, log: (l) => console.log(`  ${l}`) });
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // DuckDB runs in this process, so CPU seconds count its threads; wall time depends on what else the cores run.
  console.log(
    `latency_summary over ${N.toLocaleString('en-US')} requests + ${(chunkedRequests * PER).toLocaleString('en-US')} chunks: ${s.toFixed(2)} s wall (target ≤ 5 s), ` +
      `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU on ${os.availableParallelism()} cores, load average ${os.loadavg()[0]!.toFixed(1)}, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
  if (process.env.BENCH_KEEP) console.log(`kept ${runDir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

await main();
