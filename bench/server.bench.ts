// The simulated server under 2,000 concurrent streaming requests: starts `servelab sim serve`
// in a child process, streams from it, then prints the server's own p99 token lateness (from
// its servelab:token_lateness_seconds histogram), its CPU time per 1,000 tokens and token rate.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 2000);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 64);
const TIME_LIMIT_MS = 100_000;

/** CPU seconds (user + system) of a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

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

async function main(): Promise<void> {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...prof, path.join(root, 'bin/servelab.js'), 'sim', 'serve', '--port', '0', '--lateness-warn-ms', '5'], {
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
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const body = (i: number) => JSON.stringify({ model: 'Llama-3-8B', prompt: `Request ${i}: summarize the following text about serving large language models.`, max_tokens: MAX_TOKENS, ignore_eos: true, stream: true });

  const cpu0 = cpuSeconds(child.pid!);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  let tokens = 0;
  let failed = 0;
  let firstTokenAt = 0;
  const expected = CONCURRENCY * MAX_TOKENS;
  const scrape = () =>
    new Promise<string>((resolve, reject) => {
      http.get(`${url}/metrics`, { agent }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (s += d));
        res.on('end', () => resolve(s));
      }).on('error', reject);
    });
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const req = http.request({ host: u.hostname, port: u.port, path: '/v1/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        if (res.statusCode !== 200) failed++;
        let tail = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // Count frames without parsing JSON: the client must stay light on a 2-core host.
          const s = tail + chunk;
          let idx = s.indexOf('"text":');
          while (idx >= 0) {
            tokens++;
            idx = s.indexOf('"text":', idx + 7);
          }
          tail = s.slice(-8);
          if (!firstTokenAt) firstTokenAt = performance.now();
        });
        res.on('end', () => resolve());
        res.on('error', () => (failed++, resolve()));
      });
      req.on('error', () => (failed++, resolve()));
      req.end(body(i));
    });
  // Scrapes every 250 ms; the middle half of the run (25% → 75% of the tokens the server sent)
  // is read from the two scrapes that bracket it, past the arrival burst.
  const scrapes: string[] = [];
  const poll = setInterval(() => void scrape().then((m) => scrapes.push(m), () => {}), 250);
  const all = Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => one(i)));
  const limit = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), TIME_LIMIT_MS).unref());
  const outcome = await Promise.race([all.then(() => 'done' as const), limit]);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const cu = process.cpuUsage(clientCpu0);
  const clientCpu = (cu.user + cu.system) / 1e6;
  const metrics = await scrape();
  clearInterval(poll);
  const sentOf = (m: string) => Number(m.match(/^servelab:tokens_sent_total (\S+)$/m)?.[1] ?? 0);
  const m25 = scrapes.find((m) => sentOf(m) >= expected * 0.25);
  const m75 = scrapes.find((m) => sentOf(m) >= expected * 0.75);
  child.kill('SIGTERM');
  agent.destroy();

  const p99 = histogramQuantile(metrics, 'servelab:token_lateness_seconds', 0.99);
  const mid = m25 && m75 ? histogramQuantile(subtractBuckets(m75, m25, 'servelab:token_lateness_seconds'), 'servelab:token_lateness_seconds', 0.99) : undefined;
  const p50 = histogramQuantile(metrics, 'servelab:token_lateness_seconds', 0.5);
  const genTotal = [...metrics.matchAll(/^vllm:generation_tokens_total\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
  const streamSeconds = wall - (firstTokenAt - t0) / 1000;
  console.log(`server.bench: ${CONCURRENCY} concurrent streaming requests × ${MAX_TOKENS} tokens (Llama-3-8B, 1×H100 model, max_num_seqs 1024) — ${outcome}`);
  console.log(`  tokens received            ${tokens} (server sent ${p99.count}, engine generated ${genTotal}); failed requests ${failed}`);
  console.log(`  wall                       ${wall.toFixed(2)} s (first token after ${((firstTokenAt - t0) / 1000).toFixed(2)} s)`);
  console.log(`  token lateness p50 / p99   ${(p50.value * 1000).toFixed(2)} ms / ${(p99.value * 1000).toFixed(2)} ms   (target p99 ≤ 5 ms; histogram_quantile over the server's buckets)`);
  const wake = histogramQuantile(metrics, 'servelab:timer_lateness_seconds', 0.99);
  console.log(`  timer wake-up lateness p99 ${(wake.value * 1000).toFixed(2)} ms over ${wake.count} wake-ups (the host's scheduling share of the lateness)`);
  if (mid && mid.count > 0) console.log(`  … middle half of the run    p99 ${(mid.value * 1000).toFixed(2)} ms over ${mid.count} tokens (past the arrival burst)`);
  console.log(`  server CPU                 ${cpu.toFixed(2)} s = ${((cpu * 1000) / Math.max(1, tokens / 1000)).toFixed(1)} ms per 1,000 tokens`);
  console.log(`  client CPU (this process)  ${clientCpu.toFixed(2)} s, sharing the host's cores with the server`);
  console.log(`  token rate at saturation   ${(tokens / Math.max(1e-9, streamSeconds)).toFixed(0)} tokens/s (first token → last)`);
  const warn = stderr.split('\n').filter((l) => l.includes('cannot keep up'));
  if (warn.length) console.log(`  server warned: ${warn[0]}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
