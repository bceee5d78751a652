// The simulated server under 2,000 concurrent streaming requests: starts `servelab sim serve`
// in a child process, streams from it with a light raw-socket client, and prints the server's
// own token lateness (sent − due, from servelab:token_lateness_seconds) beside what this host
// allows: a bare timer's lateness in another process during the run, and the time a burst of
// max_num_seqs bare socket writes takes here, from one thread and split over two (the floor for
// a step whose tokens are all due at once). Also CPU per 1,000 tokens for server and client,
// and the token rate. Cells, each with vLLM's batch defaults for its GPU: Llama-3-8B on an H100
// (max_num_seqs 1024) and on an A100 (256); then saturation: OPT-125M on an H100, a model whose
// steps are far shorter than the server's work per step, so the host sets the token rate.
// Env: BENCH_CONCURRENCY (2000), BENCH_MAX_TOKENS (64), BENCH_CELLS (MODEL@GPU list, default
// Llama-3-8B@H100,Llama-3-8B@A100,OPT-125M@H100), BENCH_MAX_NUM_SEQS (the server's default for
// the GPU), BENCH_CPU_PROF=DIR (profile the server).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2000);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 64);
const CELLS = (process.env.BENCH_CELLS ?? 'Llama-3-8B@H100,Llama-3-8B@A100,OPT-125M@H100').split(',').map((c) => {
  const [model, gpu] = c.split('@');
  return { model: model!, gpu: gpu ?? 'H100' };
});
/** The cell whose model outruns the host: its token rate is the server's saturation rate. */
const SATURATION_MODEL = 'OPT-125M';
/** The engine's batch limit, when given; otherwise vLLM's default for the GPU (the most tokens due at one step end). */
const MAX_NUM_SEQS_ENV = process.env.BENCH_MAX_NUM_SEQS ? Number(process.env.BENCH_MAX_NUM_SEQS) : undefined;
const TIME_LIMIT_MS = 100_000;
/** Bytes of one streamed completion chunk as written (SSE frame + HTTP chunk framing), about. */
const FRAME_BYTES = 230;

/** CPU seconds of a process, user and system (kernel), from /proc (Linux). */
function cpuTimes(pid: number | 'self'): { user: number; sys: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 }; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Seconds a process's main thread (its event loop) spent runnable but not running: run-queue delay, /proc schedstat. */
function runQueueSeconds(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** histogram_quantile over a text exposition's buckets (linear inside the bucket, as Prometheus does). */
function histogramQuantile(text: string, name: string, q: number): { value: number; count: number } {
  const rows = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), n: Number(m[2]) }));
  const count = rows.at(-1)?.n ?? 0;
  const rank = q * count;
  let prevLe = 0;
  let prevN = 0;
  for (const r of rows) {
    if (r.n >= rank) {
      if (r.le === Infinity) return { value: prevLe, count };
      return { value: prevLe + ((r.le - prevLe) * (rank - prevN)) / Math.max(1e-12, r.n - prevN), count };
    }
    prevLe = r.le;
    prevN = r.n;
  }
  return { value: NaN, count };
}

/** The histogram's buckets of `later` minus those of `earlier`, as exposition text. */
function subtractBuckets(later: string, earlier: string, name: string): string {
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  const before = new Map([...earlier.matchAll(re)].map((m) => [m[1]!, Number(m[2])]));
  return [...later.matchAll(re)].map((m) => `${name}_bucket{le="${m[1]}"} ${Number(m[2]) - (before.get(m[1]!) ?? 0)}`).join('\n');
}

/** Value at quantile q of a sorted list (nearest rank; a probe's figure, not a result). */
const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

// ---- Host probes, plain JS run with `node -e` so they start fast and carry no server code.

/** A bare setTimeout(5 ms) loop; prints its wake-up lateness in ms when stdin closes. */
const TIMER_PROBE = `
let want = performance.now() + 5; const late = [];
const tick = () => { const now = performance.now(); late.push(now - want); want = now + 5; setTimeout(tick, 5); };
setTimeout(tick, 5);
process.stdin.on('data', () => {}).on('end', () => { late.sort((a, b) => a - b); process.stdout.write(JSON.stringify(late) + '\\n'); process.exit(0); });
`;

/**
 * Accepts N sockets, then writes one FRAME_BYTES chunk to every socket per burst, 40 ms apart:
 * first from the event loop (socket.write), then split over two threads (this one and a worker
 * writing its half straight to the file descriptors), to see what parallel writers would gain.
 */
const WRITE_PROBE = `
const net = require('node:net'); const fs = require('node:fs'); const { Worker } = require('node:worker_threads');
const [N, BYTES, BURSTS] = process.argv.slice(1).map(Number);
const socks = []; const frame = 'x'.repeat(BYTES); const buf = Buffer.from(frame); const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const srv = net.createServer((s) => { s.setNoDelay(true); s.on('error', () => {}); socks.push(s); if (socks.length === N) void go(); });
srv.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\\n'));
const WORKER = \`const { workerData: { fds, sab } } = require('node:worker_threads'); const fs = require('node:fs'); const f = new Int32Array(sab); const b = Buffer.alloc(\${BYTES}, 120);
for (let g = 0; ; ) { Atomics.wait(f, 0, g); g = Atomics.load(f, 0); if (g < 0) break; for (const fd of fds) { try { fs.writeSync(fd, b); } catch {} } Atomics.store(f, 1, g); Atomics.notify(f, 1); }\`;
async function go() {
  await sleep(100); const bursts = []; const split = []; let cpuUs = 0;
  for (let k = 0; k < BURSTS; k++) {
    const c0 = process.cpuUsage(); const t0 = performance.now(); for (const s of socks) s.write(frame); bursts.push(performance.now() - t0);
    const c = process.cpuUsage(c0); cpuUs += c.user + c.system; await sleep(40);
  }
  const fds = socks.map((s) => s._handle.fd); const half = Math.ceil(N / 2); const sab = new SharedArrayBuffer(8); const f = new Int32Array(sab);
  const w = new Worker(WORKER, { eval: true, workerData: { fds: fds.slice(half), sab } }); await sleep(200);
  for (let k = 1; k <= BURSTS; k++) {
    const t0 = performance.now(); Atomics.store(f, 0, k); Atomics.notify(f, 0);
    for (let i = 0; i < half; i++) { try { fs.writeSync(fds[i], buf); } catch {} }
    while (Atomics.load(f, 1) !== k) Atomics.wait(f, 1, k - 1, 5);
    split.push(performance.now() - t0); await sleep(40);
  }
  Atomics.store(f, 0, -1); Atomics.notify(f, 0); await w.terminate();
  process.stdout.write(JSON.stringify({ bursts, split, cpuUsPerWrite: cpuUs / (BURSTS * N) }) + '\\n'); for (const s of socks) s.destroy(); srv.close();
}
`;

function jsonLines(child: ChildProcess, onLine: (v: unknown) => void): void {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
}

/** Median time of a burst of `n` bare loopback socket writes on this host (one thread, and two), with this process draining. */
async function writeFloor(n: number): Promise<{ burstMs: number; splitMs: number; perWriteUs: number; cpuUsPerWrite: number }> {
  const child = spawn(process.execPath, ['-e', WRITE_PROBE, String(n), String(FRAME_BYTES), '25'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const socks: net.Socket[] = [];
  const got = await new Promise<{ bursts: number[]; split: number[]; cpuUsPerWrite: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`write probe exited ${code}`)));
    jsonLines(child, (v) => {
      const o = v as { port?: number; bursts?: number[]; split: number[]; cpuUsPerWrite: number };
      if (o.port) for (let i = 0; i < n; i++) socks.push(net.connect(o.port, '127.0.0.1').on('data', () => {}).on('error', () => {}));
      if (o.bursts) resolve({ bursts: o.bursts.sort((a, b) => a - b), split: o.split.sort((a, b) => a - b), cpuUsPerWrite: o.cpuUsPerWrite });
    });
  });
  for (const s of socks) s.destroy();
  child.kill();
  const burstMs = at(got.bursts, 0.5);
  return { burstMs, splitMs: at(got.split, 0.5), perWriteUs: (burstMs * 1000) / n, cpuUsPerWrite: got.cpuUsPerWrite };
}

// ---- The light client: raw HTTP/1.1 over net sockets, counting `"text":` without parsing.

const TEXT = Buffer.from('"text":');
/** The last chunk of a chunked reply. */
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');

interface ClientStats {
  tokens: number;
  failed: number;
  firstTokenAt: number;
  lastTokenAt: number;
}

function stream(port: number, i: number, st: ClientStats): Promise<void> {
  const body = JSON.stringify({ prompt: `Request ${i}: summarize the following text about serving large language models.`, max_tokens: MAX_TOKENS, ignore_eos: true, stream: true });
  const head = `POST /v1/completions HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let tail: Buffer | undefined;
    let end: Buffer = Buffer.alloc(0);
    let first = true;
    let mine = 0;
    s.setNoDelay(true);
    s.on('connect', () => s.write(head + body));
    s.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (!chunk.subarray(0, 12).equals(Buffer.from('HTTP/1.1 200'))) st.failed++;
      }
      let n = 0;
      for (let idx = chunk.indexOf(TEXT); idx >= 0; idx = chunk.indexOf(TEXT, idx + TEXT.length)) n++;
      // A marker split across two reads.
      if (tail && Buffer.concat([tail, chunk.subarray(0, TEXT.length - 1)]).includes(TEXT)) n++;
      tail = chunk.subarray(Math.max(0, chunk.length - (TEXT.length - 1)));
      if (n) {
        const now = performance.now();
        if (!st.firstTokenAt) st.firstTokenAt = now;
        st.lastTokenAt = now;
        st.tokens += n;
        mine += n;
      }
      end = (chunk.length >= LAST_CHUNK.length ? chunk : Buffer.concat([end, chunk])).subarray(-LAST_CHUNK.length);
      if (end.equals(LAST_CHUNK)) s.destroy();
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (mine !== MAX_TOKENS) st.failed++;
      resolve();
    });
  });
}

function scrape(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http
      .get(`${url}/metrics`, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (s += d));
        res.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
}

/** vLLM's max_num_seqs default for a GPU, as the server applies it (get_batch_defaults). */
async function defaultMaxNumSeqs(gpu: string): Promise<number> {
  const { batchDefaults } = await import('../simulator/server/config.ts');
  return batchDefaults(gpu).maxNumSeqs;
}

async function cell(model: string, gpu: string): Promise<void> {
  const MAX_NUM_SEQS = MAX_NUM_SEQS_ENV ?? (await defaultMaxNumSeqs(gpu));
  const saturation = model === SATURATION_MODEL;
  const load0 = loadavg();
  const floor = saturation ? null : await writeFloor(Math.min(CONCURRENCY, MAX_NUM_SEQS));

  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const seqs = MAX_NUM_SEQS_ENV ? ['--max-num-seqs', String(MAX_NUM_SEQS)] : [];
  const child = spawn(process.execPath, [...prof, path.join(root, 'bin/servelab.js'), 'sim', 'serve', '--port', '0', '--lateness-warn-ms', '5', '--model', model, '--gpu', gpu, ...seqs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(/^listening on (\S+)\n/);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  const port = Number(new URL(url).port);
  const timerProbe = spawn(process.execPath, ['-e', TIMER_PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const timerLate = new Promise<number[]>((resolve) => jsonLines(timerProbe, (v) => resolve(v as number[])));

  const cpu0 = cpuTimes(child.pid!);
  const rq0 = runQueueSeconds(child.pid!);
  const clientCpu0 = cpuTimes('self');
  const t0 = performance.now();
  const st: ClientStats = { tokens: 0, failed: 0, firstTokenAt: 0, lastTokenAt: 0 };
  const expected = CONCURRENCY * MAX_TOKENS;
  // Scrapes every 250 ms; the middle half of the run (25% → 75% of the tokens the server sent)
  // is read from the two scrapes that bracket it, past the arrival burst.
  const scrapes: string[] = [];
  const poll = setInterval(() => void scrape(url).then((m) => scrapes.push(m), () => {}), 250);
  const all = Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => stream(port, i, st)));
  const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TIME_LIMIT_MS).unref());
  const outcome = await Promise.race([all.then(() => 'done' as const), limit]);
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuTimes(child.pid!);
  const cpuSys = cpu1.sys - cpu0.sys;
  const cpu = cpu1.user - cpu0.user + cpuSys;
  const rq = runQueueSeconds(child.pid!) - rq0;
  const clientCpu1 = cpuTimes('self');
  const clientSys = clientCpu1.sys - clientCpu0.sys;
  const clientCpu = clientCpu1.user - clientCpu0.user + clientSys;
  clearInterval(poll);
  timerProbe.stdin!.end();
  const host = await timerLate;
  const metrics = await scrape(url);
  const sentOf = (m: string) => Number(m.match(/^servelab:tokens_sent_total (\S+)$/m)?.[1] ?? 0);
  const m25 = scrapes.find((m) => sentOf(m) >= expected * 0.25);
  const m75 = scrapes.find((m) => sentOf(m) >= expected * 0.75);
  child.kill('SIGTERM');
  const load1 = loadavg();

  const L = 'servelab:token_lateness_seconds';
  const p50 = histogramQuantile(metrics, L, 0.5);
  const p99 = histogramQuantile(metrics, L, 0.99);
  const mid = m25 && m75 ? histogramQuantile(subtractBuckets(m75, m25, L), L, 0.99) : undefined;
  const wake = histogramQuantile(metrics, 'servelab:timer_lateness_seconds', 0.99);
  const genTotal = [...metrics.matchAll(/^vllm:generation_tokens_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const streamSeconds = Math.max(1e-9, (st.lastTokenAt - st.firstTokenAt) / 1000);
  const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
  const per1k = (cpuS: number) => `${((cpuS * 1000) / Math.max(1, st.tokens / 1000)).toFixed(1)} ms per 1,000 tokens`;
  const util = cpu / wall;
  const rate = st.tokens / streamSeconds;
  const title = `server.bench: ${CONCURRENCY} concurrent streaming requests × ${MAX_TOKENS} tokens (${model}, 1×${gpu} model, max_num_seqs ${MAX_NUM_SEQS}${MAX_NUM_SEQS_ENV ? '' : ", vLLM's default for the GPU"}) — ${outcome}`;
  const cpuLine = `  server CPU                  ${cpu.toFixed(2)} s = ${per1k(cpu)} (kernel ${((cpuSys / Math.max(1e-9, cpu)) * 100).toFixed(0)}%${floor ? `; a bare write alone costs ${floor.cpuUsPerWrite.toFixed(1)} µs` : ''}); ${(util * 100).toFixed(0)}% of one core over the run; ${Math.round(st.tokens / Math.max(1e-9, cpu))} tokens per CPU-second`;
  const clientLine = `  client CPU (bench process)  ${clientCpu.toFixed(2)} s = ${per1k(clientCpu)} (kernel ${((clientSys / Math.max(1e-9, clientCpu)) * 100).toFixed(0)}%; raw sockets, no JSON parsing)`;
  const out = saturation
    ? [
        `${title.replace('server.bench:', 'server.bench saturation:')}`,
        `  host                        ${os.cpus().length} cores, load average ${load0} before → ${load1} after`,
        `  tokens received             ${st.tokens} (server sent ${p99.count}, engine generated ${genTotal}); failed requests ${st.failed}; wall ${wall.toFixed(2)} s`,
        `  token rate at saturation    ${rate.toFixed(0)} tokens/s (first token → last): the model's steps are far shorter than the server's work per step, so this is the most this host serves (server and client on the same ${os.cpus().length} cores)`,
        cpuLine,
        clientLine,
        `  token lateness p50 / p99    ${ms(p50.value)} / ${ms(p99.value)}   (not a target here: the model outruns the host by design; the server says so)`,
      ]
    : [
        title,
        `  host                        ${os.cpus().length} cores, load average ${load0} before → ${load1} after`,
        `  tokens received             ${st.tokens} (server sent ${p99.count}, engine generated ${genTotal}); failed requests ${st.failed}`,
        `  wall                        ${wall.toFixed(2)} s (first token after ${((st.firstTokenAt - t0) / 1000).toFixed(2)} s)`,
        `  token lateness p50 / p99    ${ms(p50.value)} / ${ms(p99.value)}   (sent − due; target p99 ≤ 5 ms; histogram_quantile over the server's buckets)`,
        ...(mid && mid.count > 0 ? [`  … steady state              p99 ${ms(mid.value)} over the middle half of the run (${mid.count} tokens, past the burst of ${CONCURRENCY} arrivals from a client on the same cores)`] : []),
        `  what this host allows:`,
        `    bare timer, other process p50 / p99 ${host.length ? `${at(host, 0.5).toFixed(2)} ms / ${at(host, 0.99).toFixed(2)} ms` : 'n/a'} late over ${host.length} setTimeout(5 ms) wake-ups during the run`,
        `    server's own timer         p99 ${ms(wake.value)} late over ${wake.count} step wake-ups (host + the server's own event-loop work)`,
        `    ${Math.min(CONCURRENCY, MAX_NUM_SEQS)} bare socket writes   ${floor!.burstMs.toFixed(2)} ms per burst (${floor!.perWriteUs.toFixed(1)} µs each, before the run): a full step's tokens are due at once, so the p99 token waits ~this long even with no server work; ${floor!.cpuUsPerWrite.toFixed(1)} µs CPU per write`,
        `    … split over 2 threads     ${floor!.splitMs.toFixed(2)} ms per burst: what parallel writers could gain on this host's ${os.cpus().length} cores (the reader needs a core too)`,
        `    server kept off the CPU    ${rq.toFixed(2)} s its event loop was runnable but waiting for a core (${((rq / wall) * 100).toFixed(0)}% of the wall; run-queue delay, /proc schedstat)`,
        cpuLine,
        clientLine,
        `  token rate                  ${rate.toFixed(0)} tokens/s (first token → last): the serving model's pace (${MAX_NUM_SEQS} sequences per decode step), which the server keeps up with`,
      ];
  console.log(out.join('\n'));
  const warn = stderr.split('\n').filter((l) => l.includes('cannot keep up'));
  if (warn.length) console.log(`  server warned: ${warn[0]}`);
}

async function main(): Promise<void> {
  for (const c of CELLS) await cell(c.model, c.gpu);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
