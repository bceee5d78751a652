// The wire protocols the load engine speaks, one handler each in an exhaustive table:
// request body, and how a streamed event or a whole JSON body updates the response state
// (first chunk, first token, usage, server timings, errors reported after HTTP 200).
import type { PROTOCOLS } from '../core/schema.ts';
import { scanLlama, scanOpenAi } from './fast-events.ts';

export type Protocol = Exclude<(typeof PROTOCOLS)[number], 'sim'>;
export const CLIENT_PROTOCOLS = ['openai-completions', 'openai-chat', 'llamacpp', 'generate'] as const satisfies readonly Protocol[];

/** Default path per protocol, and the protocol implied by a path (vLLM's --endpoint). */
export const PROTOCOL_PATH: { [K in Protocol]: string } = {
  'openai-completions': '/v1/completions',
  'openai-chat': '/v1/chat/completions',
  llamacpp: '/completion',
  generate: '/generate',
};

export function protocolForPath(p: string): Protocol | undefined {
  if (p.endsWith('/chat/completions')) return 'openai-chat';
  if (p.endsWith('/v1/completions') || p.endsWith('/completions')) return 'openai-completions';
  if (p.endsWith('/completion')) return 'llamacpp';
  if (p.endsWith('/generate')) return 'generate';
  return undefined;
}

/** What a request asks for. */
export interface RequestSpec {
  prompt: string;
  model?: string | null;
  adapter?: string | null;
  maxTokens?: number | null;
  /** Keep generating past EOS so the output length is fixed. */
  ignoreEos?: boolean;
  stream: boolean;
  /** Extra body fields merged last (e.g. temperature). */
  extraBody?: Record<string, unknown>;
}

/** Mutable per-response state the handlers fill; the client turns it into a record. */
export interface ResponseState {
  firstChunkNs: number | null;
  firstTokenNs: number | null;
  lastTokenNs: number | null;
  /** Arrival of every chunk from the first token on (the ITL gaps). */
  chunkNs: number[];
  chunkTokens: (number | null)[];
  text: string[];
  finishReason: string | null;
  promptTokensServer: number | null;
  outputTokensServer: number | null;
  serverTtftS: number | null;
  serverLatencyS: number | null;
  serverTimings: unknown;
  adapter: string | null;
  /** The server said whether the adapter was resident when scheduled (the /generate lora_resident). */
  adapterResident: boolean | null;
  gpu: number | null;
  /** The server said the stream is over ([DONE] or stop:true). */
  ended: boolean;
  endedNs: number | null;
  /** An error the server reported in the stream or body. */
  error: string | null;
  /** The prompt sent (the /generate protocol echoes it at the start of `text`). */
  prompt: string;
}

export function newState(prompt = ''): ResponseState {
  return {
    firstChunkNs: null, firstTokenNs: null, lastTokenNs: null, chunkNs: [], chunkTokens: [], text: [],
    finishReason: null, promptTokensServer: null, outputTokensServer: null, serverTtftS: null,
    serverLatencyS: null, serverTimings: null, adapter: null, adapterResident: null, gpu: null, ended: false, endedNs: null, error: null, prompt,
  };
}

type Json = Record<string, any>;

export interface ProtocolHandler {
  body(spec: RequestSpec): Json;
  /** One parsed SSE data payload (JSON, or the `[DONE]` sentinel handled by the caller). */
  event(s: ResponseState, ev: Json, tNs: number): void;
  /**
   * The same for an event of a common shape read straight from its bytes [start, end) without
   * JSON.parse; returns false, having changed nothing, when the event needs `event` instead.
   */
  fast?(s: ResponseState, b: Buffer, start: number, end: number, tNs: number): boolean;
  /** A non-streamed JSON body. */
  whole(s: ResponseState, body: Json, tNs: number): void;
  /** Whether `[DONE]` ends the stream (OpenAI routes) or the last event does (llama.cpp). */
  doneSentinel: boolean;
}

function token(s: ResponseState, text: string | null | undefined, tNs: number, tokens: number | null = null): void {
  const has = typeof text === 'string' && text.length > 0;
  if (has && s.firstTokenNs === null) s.firstTokenNs = tNs;
  if (s.firstTokenNs !== null) {
    s.chunkNs.push(tNs);
    s.chunkTokens.push(tokens);
  }
  if (has) {
    s.lastTokenNs = tNs;
    s.text.push(text);
  }
}

function streamError(ev: Json): string | null {
  if (ev.error) return typeof ev.error === 'string' ? ev.error : (ev.error.message ?? JSON.stringify(ev.error));
  if (ev.object === 'error') return String(ev.message ?? JSON.stringify(ev));
  return null;
}

function usage(s: ResponseState, u: Json | undefined): void {
  if (!u || typeof u !== 'object') return;
  if (typeof u.prompt_tokens === 'number') s.promptTokensServer = u.prompt_tokens;
  if (typeof u.completion_tokens === 'number') s.outputTokensServer = u.completion_tokens;
}

function openai(chat: boolean): ProtocolHandler {
  const textOf = (c: Json): string | undefined =>
    chat ? (c.delta?.content ?? c.delta?.reasoning_content ?? c.message?.content ?? undefined) : c.text;
  return {
    doneSentinel: true,
    body: (r) => ({
      model: r.adapter ?? r.model,
      ...(chat ? { messages: [{ role: 'user', content: r.prompt }] } : { prompt: r.prompt }),
      ...(r.maxTokens != null ? { max_tokens: r.maxTokens } : {}),
      ...(r.ignoreEos ? { ignore_eos: true } : {}),
      stream: r.stream,
      ...(r.stream ? { stream_options: { include_usage: true } } : {}),
      ...r.extraBody,
    }),
    event(s, ev, t) {
      const err = streamError(ev);
      if (err !== null) {
        s.error = err;
        return;
      }
      usage(s, ev.usage);
      const choices = ev.choices;
      if (!Array.isArray(choices) || choices.length === 0) return;
      if (s.firstChunkNs === null) s.firstChunkNs = t;
      const c = choices[0] as Json;
      token(s, textOf(c), t);
      if (c.finish_reason) s.finishReason = c.finish_reason;
    },
    fast(s, b, start, end, t) {
      const c = scanOpenAi(b, start, end, chat);
      if (c === null) return false;
      if (!c.hasChoice) return true;
      if (s.firstChunkNs === null) s.firstChunkNs = t;
      token(s, c.text, t);
      if (c.finishReason) s.finishReason = c.finishReason;
      return true;
    },
    whole(s, body, t) {
      const err = streamError(body);
      if (err !== null) {
        s.error = err;
        return;
      }
      usage(s, body.usage);
      const c = body.choices?.[0] as Json | undefined;
      if (c) {
        s.firstChunkNs = t;
        token(s, textOf(c), t);
        s.finishReason = c.finish_reason ?? null;
      }
      s.ended = true;
    },
  };
}

const llamacpp: ProtocolHandler = {
  doneSentinel: false,
  body: (r) => ({
    prompt: r.prompt,
    n_predict: r.maxTokens ?? -1,
    stream: r.stream,
    ...(r.ignoreEos ? { ignore_eos: true } : {}),
    ...r.extraBody,
  }),
  event(s, ev, t) {
    const err = streamError(ev);
    if (err !== null) {
      s.error = err;
      return;
    }
    if (s.firstChunkNs === null) s.firstChunkNs = t;
    // the closing stop:true event carries metadata, not a token, unless it has content
    if (ev.stop !== true || (typeof ev.content === 'string' && ev.content.length > 0)) {
      token(s, ev.content, t, Array.isArray(ev.tokens) ? ev.tokens.length : null);
    }
    if (ev.stop === true) {
      s.ended = true;
      if (typeof ev.tokens_predicted === 'number') s.outputTokensServer = ev.tokens_predicted;
      if (typeof ev.tokens_evaluated === 'number') s.promptTokensServer = ev.tokens_evaluated;
      s.finishReason = ev.stop_type ?? null;
      if (ev.timings) s.serverTimings = ev.timings;
    }
  },
  fast(s, b, start, end, t) {
    const c = scanLlama(b, start, end);
    if (c === null) return false;
    if (s.firstChunkNs === null) s.firstChunkNs = t;
    token(s, c.text, t, c.tokens);
    return true;
  },
  whole(s, body, t) {
    llamacpp.event(s, { ...body, stop: true }, t);
  },
};

const generate: ProtocolHandler = {
  doneSentinel: false,
  body: (r) => {
    const id = r.adapter == null ? undefined : /^\d+$/.test(r.adapter) ? Number(r.adapter) : r.adapter;
    return { prompt: r.prompt, ...(id !== undefined ? { model_id: id } : {}), ...(r.maxTokens != null ? { max_tokens: r.maxTokens } : {}), ...r.extraBody };
  },
  event(s, ev, t) {
    generate.whole(s, ev, t);
  },
  whole(s, body, t) {
    const err = streamError(body);
    if (err !== null) {
      s.error = err;
      return;
    }
    let text: string = Array.isArray(body.text) ? body.text.join('') : typeof body.text === 'string' ? body.text : '';
    // vLLM's /generate returns prompt + completion; only the completion is output
    if (s.prompt && text.startsWith(s.prompt)) text = text.slice(s.prompt.length);
    s.firstChunkNs = t;
    token(s, text, t);
    if (typeof body.ttft === 'number') s.serverTtftS = body.ttft;
    if (typeof body.completion_time === 'number') s.serverLatencyS = body.completion_time;
    if (body.model_id !== undefined && body.model_id !== null) s.adapter = String(body.model_id);
    if (typeof body.gpu_id === 'number') s.gpu = body.gpu_id;
    if (typeof body.lora_resident === 'boolean') s.adapterResident = body.lora_resident;
    usage(s, body.usage);
    s.ended = true;
  },
};

export const handlers: { [K in Protocol]: ProtocolHandler } = {
  'openai-completions': openai(false),
  'openai-chat': openai(true),
  llamacpp,
  generate,
};
