// One request, start to finish, as a `requests` record: stamps every lifecycle time on the
// monotonic clock, reads SSE or JSON through the protocol table, and turns every failure
// (refused, non-2xx, timeout, malformed stream, cancel) into a record instead of a throw.
import { Agent, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { RequestRecord } from '../core/schema.ts';
import { handlers, newState, type Protocol, type RequestSpec, type ResponseState } from './protocols.ts';
import { Exchange } from './exchange.ts';

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
  /** Abort with `new AbortReason('cancelled')` to cancel (a RequestControl costs less). */
  controller?: AbortController | RequestControl;
  /** The request body, pre-serialized (else built from the spec). */
  body?: string;
  /** Counts output tokens of the received text (client tokenizer); null to skip. */
  countTokens?: ((text: string) => number) | null;
  /** Called before the fetch so the caller can record sent_ns (e.g. queue accounting). */
  onSent?: (sentNs: number) => void;
  /** Sees each stream event's data text (benchmarks read server stamps from it) until it returns false. */
  onEvent?: (data: string, tNs: number) => boolean | void;
  /** Sees a non-streamed 2xx JSON body. */
  onBody?: (body: Record<string, unknown>) => void;
}

/** The request fields that do not depend on the response. */
export type RequestBase = Omit<RequestRecord, 'run' | 'shard' | 'status' | 'request_id' | 'endpoint' | 'protocol'>;

export interface SendResult {
  record: Omit<RequestRecord, 'run' | 'shard'>;
  state: ResponseState;
}

/** Cancels a request started with sendRequest; cheaper than an AbortController per request. */
export class RequestControl {
  reason: AbortReason | null = null;
  private target: Exchange | null = null;
  abort(reason: AbortReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.target?.abort(reason);
  }
  /** @internal the exchange this control cancels */
  attach(x: Exchange): void {
    this.target = x;
    if (this.reason) x.abort(this.reason);
  }
}

interface Target {
  url: string;
  origin: string;
  path: string;
  headers: string[];
}
const targets = new WeakMap<Endpoint, Target>();

/** The endpoint's origin, path and header list, worked out once per endpoint. */
function targetOf(ep: Endpoint): Target {
  let t = targets.get(ep);
  if (!t) {
    const url = ep.baseUrl.replace(/\/+$/, '') + ep.path;
    const u = new URL(url);
    const headers: string[] = ['content-type', 'application/json'];
    for (const [k, v] of Object.entries(ep.headers ?? {})) {
      if (k.toLowerCase() === 'content-type') headers[1] = v;
      else headers.push(k, v);
    }
    t = { url, origin: u.origin, path: u.pathname + u.search, headers };
    targets.set(ep, t);
  }
  return t;
}

/** The URL a request to the endpoint goes to (base URL without trailing slashes + path). */
export function endpointUrl(ep: Endpoint): string {
  return targetOf(ep).url;
}

/** The JSON body for a request (the engine caches it per prompt and endpoint). */
export function requestBody(ep: Endpoint, spec: RequestSpec): string {
  return JSON.stringify(handlers[ep.protocol].body({ ...spec, model: spec.model ?? ep.model, extraBody: { ...ep.extraBody, ...spec.extraBody } }));
}

/** Sends one request and never throws: every outcome is a record. */
export async function sendRequest(ep: Endpoint, spec: RequestSpec, base: RequestBase, ctx: SendContext): Promise<SendResult> {
  const { clock } = ctx;
  const h = handlers[ep.protocol];
  const state = newState(spec.prompt);
  const target = targetOf(ep);
  const body = ctx.body ?? requestBody(ep, spec);
  const x = new Exchange({ clock, handler: h, state, stream: spec.stream, onEvent: ctx.onEvent, onBody: ctx.onBody });
  const timer = ctx.timeoutMs && ctx.timeoutMs > 0 ? setTimeout(() => x.abort(new AbortReason('timeout')), ctx.timeoutMs) : undefined;
  const ctl = ctx.controller;
  let onAbort: (() => void) | undefined;
  if (ctl instanceof RequestControl) ctl.attach(x);
  else if (ctl) {
    if (ctl.signal.aborted) x.abort(ctl.signal.reason as Error);
    else ctl.signal.addEventListener('abort', (onAbort = () => x.abort(ctl.signal.reason as Error)), { once: true });
  }
  const sentNs = clock.nowNs();
  const sentUnixMs = clock.unixMs();
  ctx.onSent?.(sentNs);
  try {
    ctx.dispatcher.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: target.headers, body }, x);
  } catch (err) {
    x.onError(err as Error);
  }
  const res = await x.done;
  clearTimeout(timer);
  if (onAbort) (ctl as AbortController).signal.removeEventListener('abort', onAbort);
  let status: RequestRecord['status'] = 'ok';
  let error: string | null = res.error;
  if (res.outcome === 'http_error') status = 'http_error';
  else if (res.outcome === 'stream_error') status = 'stream_error';
  else if (res.outcome === 'transport') {
    const reason = res.cause;
    if (reason instanceof AbortReason) {
      status = reason.kind;
      error = reason.kind === 'timeout' ? `no complete response within ${ctx.timeoutMs} ms` : 'cancelled before the response completed';
    } else {
      status = 'connection_error';
      const e = reason as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = e.code ?? e.cause?.code;
      error = `${code ? `${code}: ` : ''}${e.cause?.message ?? e.message}`;
    }
  }
  const texts = state.text;
  const client = texts.length === 0 ? 0 : ctx.countTokens ? ctx.countTokens(texts.length === 1 ? texts[0]! : texts.join('')) : null;
  const server = state.outputTokensServer;
  // One literal in the schema's field order: `{ ...base, …30 fields }` added the fields to a
  // spread clone, which V8 turned into a dictionary-mode object (a runtime call per field and a
  // slow JSON.stringify per record). Same fields and values; base's own fields win where the
  // spread let them (dataset, prompt_hash, …), the computed ones where it did not.
  const record: Omit<RequestRecord, 'run' | 'shard'> = {
    request_id: ctx.requestId,
    endpoint: ep.name,
    protocol: ep.protocol,
    url: target.url,
    model: base.model ?? spec.model ?? ep.model ?? null,
    adapter: state.adapter ?? spec.adapter ?? base.adapter ?? null,
    adapter_resident: state.adapterResident,
    gpu: state.gpu ?? base.gpu ?? ep.gpu ?? null,
    phase: base.phase,
    dataset: base.dataset,
    prompt_hash: base.prompt_hash,
    prompt_words: base.prompt_words,
    prompt_tokens_client: base.prompt_tokens_client,
    prompt_tokens_server: state.promptTokensServer,
    output_tokens_requested: spec.maxTokens ?? null,
    output_tokens_server: server,
    output_tokens_client: client,
    output_tokens: server ?? client,
    token_mismatch: server !== null && client !== null ? tokenMismatch(client, server) : null,
    chunks: state.chunkNs.length,
    scheduled_ns: ctx.scheduledNs ?? base.scheduled_ns ?? null,
    sent_ns: sentNs,
    first_byte_ns: res.firstByteNs,
    first_chunk_ns: state.firstChunkNs,
    first_token_ns: state.firstTokenNs,
    last_token_ns: state.lastTokenNs,
    done_ns: res.doneNs,
    sent_unix_ms: sentUnixMs,
    server_ttft_s: state.serverTtftS,
    server_latency_s: state.serverLatencyS,
    server_timings: state.serverTimings ?? null,
    finish_reason: state.finishReason,
    status,
    http_status: res.httpStatus,
    error,
    weight: base.weight,
    priority: base.priority,
    preemptions: base.preemptions,
    extra: base.extra,
  };
  // any other field the work item carries (its tags), as the spread copied them
  const out = record as Record<string, unknown>;
  for (const k in base) if (out[k] === undefined) out[k] = (base as Record<string, unknown>)[k];
  return { record, state };
}

/** Client and server output counts disagree by more than max(1 token, 5 %). */
export function tokenMismatch(client: number, server: number): boolean {
  return Math.abs(client - server) > Math.max(1, 0.05 * server);
}
