// The imbalance generator at the old scripts' scale: 512 concurrent streams with prompts up to
// 65,536 words (a -k 16 warm-up: 65,536, 4,096, 256, 16 words; then concurrency² words) against a child `servelab sim serve --preset imbalance`, and
// what it costs: the client's CPU per request (this process: prompt text, prompts file, metrics
// look-up, request, stream, record) and the server's; then the server's time to tokenize one
// 65,536-word chat prompt (JSON parse + chat template + token count), with the generator's words
// (the token cache warm) and with 65,536 distinct words (every segment new).
// Env: BENCH_SECONDS (10), BENCH_CONCURRENCY (512), BENCH_MAX_PROMPT (65536), BENCH_CONCURRENCY_FROM (client: the
// client's own in-flight counts size the prompts, so every slot fills at once; metrics: a look-up per request, one after
// another as the old script, which on a busy host keeps concurrency and prompt sizes lower).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runImbalanceLoad } from '../collectors/imbalance/load.ts';
import { wordsPrompt } from '../collectors/imbalance/sizes.ts';
import { renderChat } from '../simulator/server/chat-template.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 512);
const MAX_PROMPT = Number(process.env.BENCH_MAX_PROMPT ?? 65536);
/** client (default): c from the client's own counts, so all slots fill at once; metrics: one look-up per request, as the old script. */
const FROM = (process.env.BENCH_CONCURRENCY_FROM ?? 'client') as 'client' | 'metrics';

function cpuSeconds(pid: number | 'self'): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) / 100;
}

async function startServer(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  // the context is raised so that 65,536-word prompts are served, not refused
  const child = spawn(process.execPath, [path.join(root, 'bin/servelab.js'), 'sim', 'serve', '--preset', 'imbalance', '--port', '0', '--max-model-len', '131072', '--lateness-warn-ms', '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`sim serve exited ${c}`)));
  });
  return { url, pid: child.pid!, stop: () => new Promise((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main() {
  console.log(`host: ${os.cpus().length} cores (2 shared cores, server and client on one host), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const srv = await startServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-bench-imbalance-'));
  try {
    const client0 = cpuSeconds('self');
    const server0 = cpuSeconds(srv.pid);
    const t0 = performance.now();
    const r = await runImbalanceLoad(
      {
        mode: 'generate', endpoint: `${srv.url}/v1/chat/completions`, metricsEndpoint: `${srv.url}/metrics`, numGpus: 4, durationS: SECONDS,
        maxConcurrency: CONCURRENCY, maxPrompt: MAX_PROMPT, warmupLoops: 10, k: 16 /* warm-up: 16^4 = 65,536 words on GPU0 */, promptsFile: path.join(dir, 'prompts.txt'), label: 'round-robin',
        dataDir: dir, maxTokens: 16, scrapeIntervalMs: 1000, graceMs: 0, timeoutMs: 120_000, concurrencyFrom: FROM,
      },
      { warn: (m) => console.log(`warning: ${m}`) },
    );
    const wall = (performance.now() - t0) / 1000;
    const client = cpuSeconds('self') - client0;
    const server = cpuSeconds(srv.pid) - server0;
    const s = r.summary;
    const n = s.prompts_sent;
    const words = s.tokens_generated;
    const promptsMb = fs.statSync(path.join(dir, 'prompts.txt')).size / 1e6;
    let largest = 0;
    for (const line of fs.readFileSync(path.join(dir, 'prompts.txt'), 'utf8').split('\n')) largest = Math.max(largest, line ? line.split(' ').length : 0);
    console.log(`load: ${CONCURRENCY} slots, concurrency from ${FROM}, ${SECONDS} s + drain (${wall.toFixed(1)} s wall): ${n} requests sent, ${s.prompts_received} answered, ${s.http_400} refused (400)`);
    console.log(`prompt words: ${words.toLocaleString('en')} in all, mean ${(words / Math.max(1, n)).toFixed(0)} per request, largest ${largest.toLocaleString('en')}; prompts file ${promptsMb.toFixed(1)} MB`);
    console.log(`client CPU per request: ${((1000 * client) / Math.max(1, n)).toFixed(2)} ms (${client.toFixed(2)} s in all; ${((1e6 * client) / Math.max(1, words)).toFixed(2)} µs per prompt word)`);
    console.log(`server CPU per request: ${((1000 * server) / Math.max(1, n)).toFixed(2)} ms (${server.toFixed(2)} s in all)`);
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // The server's prompt path for one chat request of 65,536 words.
  const model = 'Llama-3-8B';
  const time = (prompt: string) => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: prompt }], stream: true });
    const t = performance.now();
    const msgs = (JSON.parse(body) as { messages: { role: 'user'; content: string }[] }).messages;
    const tokens = renderChat(model, msgs).tokens;
    return { ms: performance.now() - t, tokens };
  };
  const generator = wordsPrompt(65536, 7);
  const cold = time(generator);
  const warm = Array.from({ length: 7 }, (_, i) => time(wordsPrompt(65536, i)).ms);
  console.log(`server tokenize, 65,536 generator words (${cold.tokens} tokens): first ${cold.ms.toFixed(1)} ms, then median ${median(warm).toFixed(1)} ms`);
  const distinct = Array.from({ length: 3 }, (_, k) => {
    const p = Array.from({ length: 65536 }, (_, i) => `w${k}x${i.toString(36)}`).join(' ');
    return time(p);
  });
  console.log(`server tokenize, 65,536 distinct words (${distinct[0]!.tokens} tokens, every word new to the cache): median ${median(distinct.map((d) => d.ms)).toFixed(1)} ms`);
}

await main();
