// Benchmark of the LoRA experiment's client: `servelab lora probe` at 8 rates × 60 s against a
// child simulated /generate server (N = 128, M = 8) — client CPU per request (user + system of
// this process over the requests it sent) — and `servelab lora sweep` over M = 128 … 2: its wall
// time against the time spent with the servers (start, load, stop), the share spent waiting.
// LORA_BENCH_SECONDS (default 60) and LORA_BENCH_RATES (default 0.5,1,2,4,8,12,16,24) shrink the
// probe; LORA_BENCH_REQUESTS (default 200) and LORA_BENCH_M (default 128,64,32,16,8,4,2) the sweep.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../collectors/launchers/index.ts';
import { run as probe } from '../collectors/lora/cmd-probe.ts';
import { run as sweep } from '../collectors/lora/cmd-sweep.ts';
import { loraServerSpec } from '../collectors/lora/servers.ts';

const seconds = Number(process.env.LORA_BENCH_SECONDS ?? 60);
const rates = process.env.LORA_BENCH_RATES ?? '0.5,1,2,4,8,12,16,24';
const requests = Number(process.env.LORA_BENCH_REQUESTS ?? 200);
const ms = process.env.LORA_BENCH_M ?? '128,64,32,16,8,4,2';
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lora-bench-'));

/** Runs a command in this process with its output captured; returns the stderr text and the CPU it took. */
async function quiet(fn: () => Promise<number>): Promise<{ code: number; stderr: string; cpuS: number; wallS: number }> {
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const code = await fn();
    const c = process.cpuUsage(c0);
    return { code, stderr, cpuS: (c.user + c.system) / 1e6, wallS: (performance.now() - t0) / 1000 };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const knobs = { server: 'sim' as const, model: 'meta-llama/Llama-2-7b-hf', totalLoras: 128, gpuLoras: 8, port: 0, useDummyWeights: true, dtype: 'auto', gpuMemoryUtilization: 0.9, maxNumSeqs: 16, maxLoraRank: 8, seed: 42 };
console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} cores; server and client on one host)`);
const server = await startServer(loraServerSpec(knobs));
try {
  const p = await quiet(() => probe(['-e', server.url, '--total-loras', '128', '--arrival-rates', rates, '-d', String(seconds), '--data', data]));
  const sent = [...p.stderr.matchAll(/sent (\d+), recorded/g)].reduce((s, m) => s + Number(m[1]), 0);
  console.log(`probe: ${rates.split(',').length} rates × ${seconds} s, ${sent} requests in ${p.wallS.toFixed(1)} s wall (exit ${p.code})`);
  console.log(`  client CPU ${p.cpuS.toFixed(2)} s = ${((1e3 * p.cpuS) / Math.max(1, sent)).toFixed(3)} ms per request (load engine, workload, SQL summary)`);
} finally {
  await server.stop();
}
const s = await quiet(() => sweep(['--total-loras', '128', '--gpu-loras', ms, '-r', '8', '-n', String(requests), '--model', 'meta-llama/Llama-2-7b-hf', '--data', data]));
const share = /wall ([\d.]+) s; with the servers \(start, load, stop\) ([\d.]+) s \((\d+)%\)/.exec(s.stderr);
console.log(`sweep: M = ${ms}, ${requests} requests at 8 req/s each (exit ${s.code})`);
console.log(share ? `  wall ${share[1]} s; waiting on the servers (start, load, stop) ${share[2]} s (${share[3]}%); the rest is the CSV rows' SQL and the run's bookkeeping` : `  (no timing line: ${s.stderr.slice(-300)})`);
console.log(`  client CPU ${s.cpuS.toFixed(2)} s over the sweep`);
console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
fs.rmSync(data, { recursive: true, force: true });
