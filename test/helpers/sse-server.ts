// A tiny inference server for collector tests and benchmarks, byte-exact to the framings in
// protocols.md (vLLM SSE, llama.cpp /completion, /generate, Prometheus /metrics). The prompt
// picks a misbehaviour ("mode:split", "mode:503", …) so every error path can be exercised.
// Run alone: `npx tsx test/helpers/sse-server.ts [--port N] [--chunks 16] [--delay-ms 0] [--stamp]` prints its URL.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const MODES = ['normal', 'split', 'multi', 'comment', 'error-mid', 'error-flat', 'malformed', 'no-done', '503', '500', 'hang', 'die', 'slow'] as const;
export type Mode = (typeof MODES)[number];

export interface SseServerOptions {
  port?: number;
  host?: string;
  /** Content chunks per response unless the request asks for fewer tokens (default 16). */
  chunks?: number;
  model?: string;
  /** Milliseconds between chunks (default 0: written back to back). */
  delayMs?: number;
  /** Add the server's send time `t` (monotonic host ms, stampMs) to every content event. */
  stamp?: boolean;
  /** Prometheus text served at /metrics (default: a two-engine vLLM sample). */
  metricsText?: string;
}

export interface SseServer {
  url: string;
  port: number;
  /** Requests received, by path. */
  hits: Map<string, number>;
  /** The Authorization and X-* headers of every request received, in order. */
  seenHeaders: Record<string, string>[];
  close(): Promise<void>;
}

/** CLOCK_MONOTONIC in ms (process.hrtime): the same clock in every process of this host. */
export const stampMs = () => Number(process.hrtime.bigint()) / 1e6;

// A content event's `t` is filled in as it is written (its send time), not when the response's
// events are built: the 16 other events were built between the first stamp and its write.
const STAMP = '\u0001t';
const STAMP_JSON = JSON.stringify(STAMP);
const stamped = (text: string) => (text.includes(STAMP_JSON) ? text.replaceAll(STAMP_JSON, String(stampMs())) : text);

export const SAMPLE_METRICS = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 12.0
vllm:num_requests_running{engine="1",model_name="m"} 3.0
vllm:num_requests_waiting{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="1",model_name="m"} 1.0
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.4375
vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.25
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 140.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 140.0
vllm:lora_requests_info{max_lora="4",running_lora_adapters="sql-lora,chat-lora",waiting_lora_adapters=""} 1.7301234567e+09
`;

function modeOf(prompt: string): Mode {
  const m = /mode:([\w-]+)/.exec(prompt);
  return m && (MODES as readonly string[]).includes(m[1]!) ? (m[1] as Mode) : 'normal';
}

const words = ['Hello', ' world', ',', ' this', ' is', ' a', ' test', '.'];

export async function startSseServer(opts: SseServerOptions = {}): Promise<SseServer> {
  const model = opts.model ?? 'test-model';
  const hits = new Map<string, number>();
  const seenHeaders: Record<string, string>[] = [];
  // when each POST response was fully written (stampMs): the server's own count, for GET /completed
  const completed: number[] = [];
  let inflight = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    seenHeaders.push(Object.fromEntries(Object.entries(req.headers).filter(([k]) => k === 'authorization' || k.startsWith('x-')) as [string, string][]));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') return get(url, res);
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        res.writeHead(400).end('bad json');
        return;
      }
      inflight++;
      res.on('close', () => inflight--);
      res.on('finish', () => completed.push(stampMs()));
      post(url.pathname, body, req, res);
    });
  });

  function get(url: URL, res: http.ServerResponse) {
    if (url.pathname === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', root: model, max_model_len: 4096 }] }));
    } else if (url.pathname === '/metrics' && url.searchParams.has('gpu_id')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ concurrency: Number(url.searchParams.get('gpu_id')) + inflight }));
    } else if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(opts.metricsText ?? SAMPLE_METRICS);
    } else if (url.pathname === '/completed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completed));
    } else if (url.pathname === '/health') {
      res.writeHead(200).end();
    } else res.writeHead(404).end('not found');
  }

  function post(path: string, body: Record<string, any>, req: http.IncomingMessage, res: http.ServerResponse) {
    const prompt: string = typeof body.prompt === 'string' ? body.prompt : (body.messages?.at(-1)?.content ?? '');
    const mode = modeOf(prompt);
    const n = Math.max(1, Math.min(opts.chunks ?? 16, body.max_tokens ?? body.n_predict ?? Infinity));
    if (mode === '503' || mode === '500') {
      const code = Number(mode);
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code, message: code === 503 ? 'Service Unavailable' : 'Internal error', type: 'unavailable_error' } }));
      return;
    }
    if (mode === 'hang') return; // never answers: the client's timeout must fire
    if (path === '/generate') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ text: [prompt + words.slice(0, n).join('')], model_id: body.model_id ?? null, ttft: 0.0234, completion_time: 0.156 }));
      return;
    }
    const stream = body.stream === true;
    const kind = path === '/completion' ? 'llamacpp' : path.endsWith('/chat/completions') ? 'chat' : 'completions';
    const events = frames(kind, n, body, prompt);
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(whole(kind, n, body, prompt));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let list = events.map((e) => `data: ${e}\n\n`);
    if (kind !== 'llamacpp') list.push('data: [DONE]\n\n');
    if (mode === 'comment') list = list.flatMap((e, i) => (i === 1 ? [': ping\n\n', e] : [e]));
    if (mode === 'error-mid' || mode === 'error-flat') {
      const err = mode === 'error-mid' ? { error: { message: 'engine died', type: 'InternalServerError', code: 500 } } : { object: 'error', message: 'engine died', code: 500 };
      list = [...list.slice(0, 2), `data: ${JSON.stringify(err)}\n\n`, 'data: [DONE]\n\n'];
    }
    if (mode === 'malformed') list = [...list.slice(0, 2), 'data: {"choices": [\n\n', ...list.slice(2)];
    if (mode === 'no-done') list = list.slice(0, -1);
    if (mode === 'die') {
      res.write(stamped(list.slice(0, 2).join('')));
      setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    if (mode === 'multi') {
      res.end(stamped(list.join('')));
      return;
    }
    if (mode === 'split') {
      const all = stamped(list.join(''));
      let i = 0;
      const step = () => {
        if (i >= all.length) return void res.end();
        res.write(all.slice(i, i + 7));
        i += 7;
        setTimeout(step, 1);
      };
      return step();
    }
    const delay = mode === 'slow' ? 20 : (opts.delayMs ?? 0);
    if (delay <= 0) {
      for (const e of list) res.write(stamped(e));
      res.end();
      return;
    }
    let i = 0;
    const tick = () => {
      if (res.destroyed) return;
      res.write(stamped(list[i++]!));
      if (i < list.length) setTimeout(tick, delay);
      else res.end();
    };
    tick();
  }

  function frames(kind: 'llamacpp' | 'chat' | 'completions', n: number, body: Record<string, any>, prompt: string): string[] {
    const id = `cmpl-${Math.random().toString(16).slice(2, 10)}`;
    const created = Math.floor(Date.now() / 1000);
    const m = body.model ?? model;
    const out: string[] = [];
    const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
    for (let i = 0; i < n; i++) {
      const text = words[i % words.length]!;
      const last = i === n - 1;
      const t = opts.stamp ? { t: STAMP } : {};
      if (kind === 'llamacpp') {
        out.push(JSON.stringify({ index: 0, content: text, tokens: [1000 + i], stop: false, id_slot: 0, tokens_predicted: i + 1, tokens_evaluated: promptTokens, ...t }));
      } else if (kind === 'chat') {
        if (i === 0) out.push(JSON.stringify({ id, object: 'chat.completion.chunk', created, model: m, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }));
        out.push(JSON.stringify({ id, object: 'chat.completion.chunk', created, model: m, choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: last ? 'length' : null, ...(last ? { stop_reason: null } : {}) }], ...t }));
      } else {
        out.push(JSON.stringify({ id, object: 'text_completion', created, model: m, choices: [{ index: 0, text, logprobs: null, finish_reason: last ? 'length' : null, stop_reason: null }], ...t }));
      }
    }
    if (kind === 'llamacpp') {
      out.push(JSON.stringify({
        index: 0, content: '', tokens: [], stop: true, id_slot: 0, model: m, tokens_predicted: n, tokens_evaluated: promptTokens,
        generation_settings: { n_predict: body.n_predict ?? -1 }, prompt, truncated: false, stop_type: 'limit', stopping_word: '', tokens_cached: promptTokens + n,
        timings: { cache_n: 0, prompt_n: promptTokens, prompt_ms: 12.3, prompt_per_token_ms: 2.46, prompt_per_second: 406.5, predicted_n: n, predicted_ms: 119.2, predicted_per_token_ms: 9.3, predicted_per_second: 107.5 },
      }));
    } else if (body.stream_options) {
      out.push(JSON.stringify({ id, object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model: m, choices: [], usage: { prompt_tokens: promptTokens, total_tokens: promptTokens + n, completion_tokens: n } }));
    }
    return out;
  }

  function whole(kind: 'llamacpp' | 'chat' | 'completions', n: number, body: Record<string, any>, prompt: string): string {
    const text = Array.from({ length: n }, (_, i) => words[i % words.length]).join('');
    const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
    if (kind === 'llamacpp') return JSON.stringify({ index: 0, content: text, stop: true, tokens_predicted: n, tokens_evaluated: promptTokens, stop_type: 'limit' });
    const usage = { prompt_tokens: promptTokens, total_tokens: promptTokens + n, completion_tokens: n };
    const choice = kind === 'chat' ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' } : { index: 0, text, logprobs: null, finish_reason: 'length' };
    return JSON.stringify({ id: 'cmpl-1', object: kind === 'chat' ? 'chat.completion' : 'text_completion', created: 0, model: body.model ?? model, choices: [choice], usage });
  }

  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    seenHeaders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const s = await startSseServer({ port: Number(arg('port') ?? 0), chunks: Number(arg('chunks') ?? 16), delayMs: Number(arg('delay-ms') ?? 0), stamp: process.argv.includes('--stamp') });
  process.stdout.write(`listening on ${s.url}\n`);
  const stop = () => void s.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
