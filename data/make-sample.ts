// Writes the committed sample run data/samples/runs/latency/sample-001/ (manifest, raw requests
// and chunks) from a seeded PRNG, so the README tour and tests have a small realistic run.
// Deterministic: the same bytes on every machine. Run: npx tsx data/make-sample.ts [OUT_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChunkRecord, RequestRecord, RunManifest } from '../core/schema.ts';

const RUN = 'sample-001';
const SEED = 20261123;
const START_UNIX_MS = 1763856000000; // fixed wall clock, so the output never changes
const MS = 1e6;

/** mulberry32: a tiny seeded PRNG (floats in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Endpoint {
  name: string;
  protocol: RequestRecord['protocol'];
  model: string;
  url: string;
  weight: number;
  /** Prefill ms per prompt token, decode ms per token, and how much each in-flight request slows decode. */
  prefillMs: number;
  decodeMs: number;
  crowdMs: number;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'llama-8b', protocol: 'openai-chat', model: 'meta-llama/Meta-Llama-3-8B-Instruct', url: 'http://127.0.0.1:8001/v1/chat/completions', weight: 0.6, prefillMs: 0.09, decodeMs: 11, crowdMs: 0.35 },
  { name: 'qwen-32b', protocol: 'openai-completions', model: 'Qwen/Qwen3-32B', url: 'http://127.0.0.1:8002/v1/completions', weight: 0.4, prefillMs: 0.3, decodeMs: 27, crowdMs: 0.9 },
];

export function makeSample(): { manifest: RunManifest; requests: RequestRecord[]; chunks: ChunkRecord[] } {
  const rand = prng(SEED);
  const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
  const int = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));
  const exp = (mean: number) => -Math.log(1 - rand()) * mean;
  const hex = () => Array.from({ length: 16 }, () => Math.floor(rand() * 16).toString(16)).join('');

  // The schedule: 8 warm-up requests per endpoint in the first 4 s, then Poisson arrivals at
  // 3 req/s for 60 s with a burst around 40 s.
  const plan: { t: number; ep: Endpoint; phase: RequestRecord['phase'] }[] = [];
  for (const ep of ENDPOINTS) for (let i = 0; i < 8; i++) plan.push({ t: i * 500 + between(0, 20), ep, phase: 'warmup' });
  for (let t = 5000; t < 65000; ) {
    const rate = t > 40000 && t < 46000 ? 7 : 3;
    t += exp(1000 / rate);
    plan.push({ t, ep: rand() < ENDPOINTS[0]!.weight ? ENDPOINTS[0]! : ENDPOINTS[1]!, phase: 'main' });
  }
  plan.sort((a, b) => a.t - b.t);

  const requests: RequestRecord[] = [];
  const chunks: ChunkRecord[] = [];
  const busyUntil = new Map<string, number[]>();
  const mainCount = new Map<string, number>();
  plan.forEach((p, i) => {
    const id = `r${String(i + 1).padStart(4, '0')}`;
    const ep = p.ep;
    const inFlight = (busyUntil.get(ep.name) ?? []).filter((end) => end > p.t).length;
    const words = int(20, 400);
    const promptTokens = Math.round(words * between(1.25, 1.4));
    const requested = [64, 128, 256][int(0, 2)]!;
    const outputTokens = Math.min(requested, int(12, 48));
    // Send lag: mostly well under a millisecond, with the odd event-loop stall.
    const lagMs = rand() < 0.03 ? between(4, 18) : exp(0.15);
    const scheduled = Math.round(p.t * MS);
    const sent = Math.round(scheduled + lagMs * MS);
    const base: RequestRecord = {
      run: RUN, shard: 0, request_id: id, endpoint: ep.name, protocol: ep.protocol, url: ep.url, model: ep.model,
      phase: p.phase, dataset: 'sharegpt-sample', prompt_hash: hex(), prompt_words: words,
      prompt_tokens_client: promptTokens, output_tokens_requested: requested,
      scheduled_ns: scheduled, sent_ns: sent, sent_unix_ms: START_UNIX_MS + Math.round(sent / MS), status: 'ok',
    };

    if (p.phase === 'main') mainCount.set(ep.name, (mainCount.get(ep.name) ?? 0) + 1);
    const failure = p.phase === 'main' ? pickFailure(i, ep, p.t, mainCount.get(ep.name)!) : undefined;
    if (failure === 'http_error') {
      const done = sent + Math.round(between(1.5, 4) * MS);
      requests.push({ ...base, status: 'http_error', http_status: 503, first_byte_ns: done, done_ns: done, error: 'Service Unavailable: the engine is overloaded' });
      return;
    }
    if (failure === 'connection_error') {
      requests.push({ ...base, status: 'connection_error', done_ns: sent + Math.round(0.4 * MS), error: 'connect ECONNREFUSED 127.0.0.1:8002' });
      return;
    }

    const ttftMs = 18 + promptTokens * ep.prefillMs + inFlight * ep.crowdMs * 6 + exp(8);
    const firstToken = sent + Math.round(ttftMs * MS);
    const firstByte = firstToken - Math.round(between(0.5, 3) * MS);
    const times = [firstToken];
    // A timeout stops streaming partway and the client gives up at 30 s.
    const streamed = failure === 'timeout' ? Math.floor(outputTokens / 3) : outputTokens;
    for (let k = 1; k < streamed; k++) {
      const stall = rand() < 0.01 ? between(40, 120) : 0;
      times.push(times[k - 1]! + Math.round((ep.decodeMs + inFlight * ep.crowdMs + exp(1.5) + stall) * MS));
    }
    times.forEach((t, k) => chunks.push({ run: RUN, shard: 0, request_id: id, idx: k, t_ns: t, tokens: 1 }));
    const last = times[times.length - 1]!;
    busyUntil.set(ep.name, [...(busyUntil.get(ep.name) ?? []), last / MS]);
    if (failure === 'timeout') {
      requests.push({
        ...base, status: 'timeout', first_byte_ns: firstByte, first_chunk_ns: firstByte, first_token_ns: firstToken, last_token_ns: last,
        done_ns: sent + 30000 * MS, chunks: times.length, error: 'no data for 30 s (read timeout)',
      });
      return;
    }
    const serverTokens = outputTokens;
    const clientTokens = rand() < 0.05 ? outputTokens + 1 : outputTokens;
    requests.push({
      ...base, prompt_tokens_server: promptTokens + 5, output_tokens_server: serverTokens, output_tokens_client: clientTokens,
      output_tokens: serverTokens, token_mismatch: serverTokens !== clientTokens, chunks: times.length,
      first_byte_ns: firstByte, first_chunk_ns: ep.protocol === 'openai-chat' ? firstByte : firstToken, first_token_ns: firstToken,
      last_token_ns: last, done_ns: last + Math.round(between(0.2, 0.6) * MS),
      finish_reason: outputTokens === requested ? 'length' : 'stop', http_status: 200,
    });
  });

  // Raw files are appended as requests finish and chunks arrive.
  const end = (r: RequestRecord) => r.done_ns ?? r.last_token_ns ?? r.sent_ns ?? 0;
  requests.sort((a, b) => end(a) - end(b) || a.request_id.localeCompare(b.request_id));
  chunks.sort((a, b) => a.t_ns - b.t_ns || a.request_id.localeCompare(b.request_id));
  const lastNs = Math.max(...requests.map(end));
  const manifest: RunManifest = {
    run: RUN, experiment: 'latency', status: 'complete', started_unix_ms: START_UNIX_MS,
    finished_unix_ms: START_UNIX_MS + Math.ceil(lastNs / MS), tool_version: '0.1.0', git_commit: null, host: 'sample-host',
    command: 'npx tsx data/make-sample.ts',
    config: { seed: SEED, duration_s: 60, rate: 3, burst: { from_s: 40, to_s: 46, rate: 7 }, warmup_per_endpoint: 8, endpoints: ENDPOINTS.map(({ name, weight }) => ({ name, weight })) },
    servers: ENDPOINTS.map((e) => ({ kind: 'external', name: e.name, url: e.url, model: e.model })),
    counts: { 'raw/requests.jsonl': requests.length, 'raw/chunks.jsonl': chunks.length },
    error: null,
  };
  return { manifest, requests, chunks };
}

/** A few failures at fixed places: 503s in the burst, one refused connection, one timeout. */
function pickFailure(i: number, ep: Endpoint, tMs: number, nth: number): 'http_error' | 'connection_error' | 'timeout' | undefined {
  if (ep.name === 'qwen-32b' && tMs > 41000 && tMs < 45000 && i % 3 === 0) return 'http_error';
  if (ep.name === 'qwen-32b' && nth === 20) return 'connection_error';
  if (ep.name === 'llama-8b' && i > 120 && i % 97 === 0) return 'timeout';
  return undefined;
}

function writeSample(dir: string): void {
  const { manifest, requests, chunks } = makeSample();
  fs.mkdirSync(path.join(dir, 'raw'), { recursive: true });
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'raw', 'requests.jsonl'), jsonl(requests));
  fs.writeFileSync(path.join(dir, 'raw', 'chunks.jsonl'), jsonl(chunks));
  const bytes = ['manifest.json', 'raw/requests.jsonl', 'raw/chunks.jsonl'].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  const failed = requests.filter((r) => r.status !== 'ok').map((r) => r.status);
  console.log(`${dir}: ${requests.length} requests (${failed.length} failed: ${failed.join(', ')}), ${chunks.length} chunks, ${bytes} bytes`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  writeSample(process.argv[2] ?? path.join(here, 'samples', 'runs', 'latency', RUN));
}
