// Run store figures: JSONL writer throughput with realistic request records, and finalize of
// 1,000,000 request records to Parquet (wall time and the finalizing process's peak RSS).
// `npx tsx bench/runstore.bench.ts [records]`; prints figures, asserts nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRun } from '../core/run.ts';
import type { RequestRecord } from '../core/schema.ts';

const here = fileURLToPath(import.meta.url);

/** A request record as the load engine writes one (contract fields only). */
export function requestRecord(i: number): Omit<RequestRecord, 'run' | 'shard'> {
  const sent = 1_000_000_000 + i * 2_500_000;
  const out = 128 + (i % 200);
  return {
    request_id: `req-${i}`,
    endpoint: i % 3 === 0 ? 'qwen-32b' : 'llama-8b',
    protocol: 'openai-chat',
    url: 'http://127.0.0.1:8000/v1/chat/completions',
    model: 'meta-llama/Meta-Llama-3-8B-Instruct',
    gpu: i % 4,
    phase: i < 100 ? 'warmup' : 'main',
    dataset: 'sharegpt',
    prompt_hash: (0x9e3779b97f4a7c15n * BigInt(i + 1)).toString(16).slice(-16).padStart(16, '0'),
    prompt_words: 90 + (i % 60),
    prompt_tokens_client: 120 + (i % 80),
    prompt_tokens_server: 121 + (i % 80),
    output_tokens_requested: 256,
    output_tokens_server: out,
    output_tokens_client: out,
    output_tokens: out,
    token_mismatch: false,
    chunks: out,
    scheduled_ns: sent - 40_000,
    sent_ns: sent,
    first_byte_ns: sent + 18_000_000,
    first_chunk_ns: sent + 19_000_000,
    first_token_ns: sent + 21_000_000 + (i % 7) * 1_000_000,
    last_token_ns: sent + 21_000_000 + out * 9_000_000,
    done_ns: sent + 22_000_000 + out * 9_000_000,
    sent_unix_ms: 1_763_870_000_000 + sent / 1e6,
    finish_reason: 'length',
    status: i % 97 === 0 ? 'timeout' : 'ok',
    http_status: i % 97 === 0 ? null : 200,
    error: i % 97 === 0 ? 'timed out after 30 s' : null,
  };
}

function writerBench(dataDir: string, n: number): string {
  const run = createRun({ experiment: 'bench', runId: 'writer', dataDir, config: { n } });
  // Records are built before the clock starts (the load engine builds them anyway), so the
  // figure is the writer's: append (serialize, buffer), group commit, fsync on close.
  const pool = Array.from({ length: Math.min(n, 50_000) }, (_, i) => requestRecord(i));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rec = pool[i % pool.length]!;
    if (i >= pool.length) rec.request_id = `req-${i}`;
    run.append('requests', rec);
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  run.finish('complete');
  const closeS = (performance.now() - t1) / 1000;
  const bytes = fs.statSync(run.rawFile('requests')).size;
  console.log(
    `JSONL writer: ${n.toLocaleString('en')} request records appended in ${s.toFixed(2)} s = ${Math.round(n / s).toLocaleString('en')} records/s sustained ` +
      `(${(bytes / 2 ** 20 / s).toFixed(0)} MB/s; ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU = ${Math.round(n / ((cpu.user + cpu.system) / 1e6)).toLocaleString('en')} records per CPU-second; ` +
      `target ≥ 200,000/s); close with fsync of ${(bytes / 2 ** 20).toFixed(0)} MB: ${closeS.toFixed(2)} s`,
  );
  return run.dir;
}

/** Child mode: finalize one run and print its own figures as JSON. */
async function finalizeChild(dir: string): Promise<void> {
  const { finalizeRun } = await import('../analysis/runstore.ts');
  const t0 = performance.now();
  const r = await finalizeRun(dir);
  const seconds = (performance.now() - t0) / 1000;
  const u = process.resourceUsage();
  console.log(JSON.stringify({ seconds, maxRssMB: u.maxRSS / 1024, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, tables: r.tables.map((t) => [t.table, t.records, t.path]) }));
}

function finalizeFigure(dir: string, n: number, label: string): void {
  const raw = fs.statSync(path.join(dir, 'raw', 'requests.jsonl')).size;
  const child = spawnSync(process.execPath, ['--import', 'tsx', here, '--finalize-child', dir], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`finalize child failed: ${child.stderr}`);
  const f = JSON.parse(child.stdout.trim().split('\n').pop()!) as { seconds: number; maxRssMB: number; cpu: number; tables: [string, number, string][] };
  const pq = fs.statSync(path.join(dir, 'requests.parquet')).size;
  console.log(
    `finalize${label}: ${n.toLocaleString('en')} request records, JSONL ${(raw / 2 ** 20).toFixed(0)} MB → Parquet ${(pq / 2 ** 20).toFixed(1)} MB ` +
      `in ${f.seconds.toFixed(2)} s (${f.cpu.toFixed(1)} s CPU; ${f.tables.map((t) => `${t[0]} via ${t[2]}`).join(', ')}), ` +
      `peak RSS ${f.maxRssMB.toFixed(0)} MB (targets ≤ 10 s, ≤ 1536 MB)`,
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === '--finalize-child') return finalizeChild(process.argv[3]!);
  const n = Number(process.argv[2] ?? 1_000_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-bench-'));
  try {
    finalizeFigure(writerBench(dataDir, n), n, '');
    fs.rmSync(path.join(dataDir, 'runs', 'bench', 'writer'), { recursive: true });
    // Records with a field outside the contract take the JSON-objects path (extra kept).
    const m = Math.ceil(n / 4);
    const run = createRun({ experiment: 'bench', runId: 'extra', dataDir });
    for (let i = 0; i < m; i++) run.append('requests', { ...requestRecord(i), ...{ client_host: `h${i % 8}` } });
    run.finish('complete');
    finalizeFigure(run.dir, m, ' (every record with an unknown field → extra)');
    console.log(`host: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === here) await main();
