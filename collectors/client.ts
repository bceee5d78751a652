// One request, start to finish, as a `requests` record: stamps every lifecycle time on the
// monotonic clock, reads SSE or JSON through the protocol table, and turns every failure
// (refused, non-2xx, timeout, malformed stream, cancel) into a record instead of a throw.
import { Agent, request, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { RequestRecord } from '../core/schema.ts';
import { handlers, newState, type Protocol, type RequestSpec, type ResponseState } from './protocols.ts';
import { SseParser } from './sse.ts';

export interface Endpoint {
  /** Name in records (the config name; default the URL path). */
  name: string;
  /** Base URL, e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  path: string;
  protocol: Protocol;
  model?: string | null;
  /** Share of requests in a mixed load. */
  weight?: number;
  stream?: boolean;
  headers?: Record<string, string>;
  extraBody?: Record<string, unknown>;
  /** GPU or replica this endpoint stands for (tags records). */
  gpu?: number | null;
}

/** A keep-alive connection pool for every origin; connections unlimited unless given. */
export function makeAgent(opts: { connections?: number | null; timeoutMs?: number } = {}): Agent {
  return new Agent({
    connections: opts.connections ?? null,
    keepAliveTimeout: 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: opts.timeoutMs ?? 10_000 },
  });
}

export type AbortKind = 'timeout' | 'cancelled';
export class AbortReason extends Error {
  constructor(readonly kind: AbortKind) {
    super(kind === 'timeout' ? 'request timed out' : 'request cancelled');
  }
}

export interface SendContext {
  clock: Clock;
  dispatcher: Dispatcher;
  requestId: string;
  scheduledNs?: number | null;
  timeoutMs?: number;
  /** Abort with `new AbortReason('cancelled')` to cancel. */
  controller?: AbortController;
  /** Counts output tokens of the received text (client tokenizer); null to skip. */
  countTokens?: ((text: string) => number) | null;
  /** Called before the fetch so the caller can record sent_ns (e.g. queue accounting). */
  onSent?: (sentNs: number) => void;
  /** Sees every parsed stream event (benchmarks read server stamps from it). */
  onEvent?: (ev: Record<string, unknown>, tNs: number) => void;
}

/** The request fields that do not depend on the response. */
export type RequestBase = Omit<RequestRecord, 'run' | 'shard' | 'status' | 'request_id' | 'endpoint' | 'protocol'>;

const ERROR_TEXT_MAX = 500;

export interface SendResult {
  record: Omit<RequestRecord, 'run' | 'shard'>;
  state: ResponseState;
}

/** Sends one request and never throws: every outcome is a record. */
export async function sendRequest(ep: Endpoint, spec: RequestSpec, base: RequestBase, ctx: SendContext): Promise<SendResult> {
  const { clock } = ctx;
  const h = handlers[ep.protocol];
  const stream = spec.stream;
  const state = newState(spec.prompt);
  const ac = ctx.controller ?? new AbortController();
  const timer = ctx.timeoutMs && ctx.timeoutMs > 0 ? setTimeout(() => ac.abort(new AbortReason('timeout')), ctx.timeoutMs) : undefined;
  const url = ep.baseUrl.replace(/\/+$/, '') + ep.path;
  const body = JSON.stringify(h.body({ ...spec, model: spec.model ?? ep.model, extraBody: { ...ep.extraBody, ...spec.extraBody } }));
  let status: RequestRecord['status'] = 'ok';
  let httpStatus: number | null = null;
  let error: string | null = null;
  let firstByteNs: number | null = null;
  let doneNs: number | null = null;
  const sentNs = clock.nowNs();
  const sentUnixMs = clock.unixMs();
  ctx.onSent?.(sentNs);
  try {
    if (ac.signal.aborted) throw ac.signal.reason;
    const res = await request(url, {
      method: 'POST',
      dispatcher: ctx.dispatcher,
      headers: { 'content-type': 'application/json', ...ep.headers },
      body,
      signal: ac.signal,
    });
    firstByteNs = clock.nowNs();
    httpStatus = res.statusCode;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      let text = '';
      const dec = new TextDecoder();
      for await (const piece of res.body) if (text.length < ERROR_TEXT_MAX) text += dec.decode(piece as Uint8Array, { stream: true });
      doneNs = clock.nowNs();
      status = 'http_error';
      error = `HTTP ${res.statusCode}: ${text.slice(0, ERROR_TEXT_MAX)}`;
    } else if (stream) {
      const parsed = await readStream(res.body, h, state, clock, ctx.onEvent);
      doneNs = state.endedNs ?? clock.nowNs();
      if (parsed) {
        status = 'stream_error';
        error = parsed;
      }
    } else {
      const text = await res.body.text();
      doneNs = clock.nowNs();
      try {
        h.whole(state, JSON.parse(text), doneNs);
        if (state.error !== null) {
          status = 'stream_error';
          error = state.error;
        }
      } catch {
        status = 'stream_error';
        error = `response is not JSON: ${text.slice(0, 200)}`;
      }
    }
  } catch (err) {
    doneNs = clock.nowNs();
    const reason = ac.signal.aborted ? ac.signal.reason : undefined;
    if (reason instanceof AbortReason) {
      status = reason.kind;
      error = reason.kind === 'timeout' ? `no complete response within ${ctx.timeoutMs} ms` : 'cancelled before the response completed';
    } else {
      status = 'connection_error';
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = e.code ?? e.cause?.code;
      error = `${code ? `${code}: ` : ''}${e.cause?.message ?? e.message}`;
    }
  } finally {
    clearTimeout(timer);
  }
  const outputText = state.text.join('');
  const client = ctx.countTokens && state.text.length ? ctx.countTokens(outputText) : state.text.length ? null : 0;
  const server = state.outputTokensServer;
  const record: Omit<RequestRecord, 'run' | 'shard'> = {
    ...base,
    request_id: ctx.requestId,
    endpoint: ep.name,
    protocol: ep.protocol,
    url,
    model: base.model ?? spec.model ?? ep.model ?? null,
    adapter: state.adapter ?? spec.adapter ?? base.adapter ?? null,
    gpu: state.gpu ?? base.gpu ?? ep.gpu ?? null,
    prompt_tokens_server: state.promptTokensServer,
    output_tokens_requested: spec.maxTokens ?? null,
    output_tokens_server: server,
    output_tokens_client: client,
    output_tokens: server ?? client,
    token_mismatch: server !== null && client !== null ? tokenMismatch(client, server) : null,
    chunks: state.chunkNs.length,
    scheduled_ns: ctx.scheduledNs ?? base.scheduled_ns ?? null,
    sent_ns: sentNs,
    first_byte_ns: firstByteNs,
    first_chunk_ns: state.firstChunkNs,
    first_token_ns: state.firstTokenNs,
    last_token_ns: state.lastTokenNs,
    done_ns: doneNs,
    sent_unix_ms: sentUnixMs,
    server_ttft_s: state.serverTtftS,
    server_latency_s: state.serverLatencyS,
    server_timings: state.serverTimings ?? null,
    finish_reason: state.finishReason,
    status,
    http_status: httpStatus,
    error,
  };
  return { record, state };
}

/** Reads an SSE body into the state; returns an error text for a broken stream, else null. */
async function readStream(
  body: AsyncIterable<Uint8Array>,
  h: (typeof handlers)[Protocol],
  state: ResponseState,
  clock: Clock,
  onEvent?: SendContext['onEvent'],
): Promise<string | null> {
  let problem: string | null = null;
  const parser = new SseParser({
    event(data) {
      const t = clock.nowNs();
      if (data === '[DONE]') {
        state.ended = true;
        state.endedNs = t;
        return false;
      }
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(data) as Record<string, unknown>;
      } catch {
        problem = `malformed SSE data: ${data.slice(0, 200)}`;
        return false;
      }
      h.event(state, ev, t);
      onEvent?.(ev, t);
      if (state.ended && !h.doneSentinel) {
        state.endedNs = t;
        return false;
      }
      return true;
    },
    malformed(line) {
      problem = `malformed SSE line: ${line.slice(0, 200)}`;
    },
  });
  // after the end event the rest of the body is drained so the connection is kept alive
  const dec = new TextDecoder();
  for await (const piece of body) {
    parser.push(dec.decode(piece, { stream: true }));
    if (parser.done && !state.ended) break;
  }
  if (!parser.done) parser.end();
  if (problem !== null) return problem;
  if (state.error !== null) return state.error;
  if (!state.ended) return h.doneSentinel ? 'stream ended without [DONE]' : 'stream ended without stop:true';
  return null;
}

/** Client and server output counts disagree by more than max(1 token, 5 %). */
export function tokenMismatch(client: number, server: number): boolean {
  return Math.abs(client - server) > Math.max(1, 0.05 * server);
}
