// One HTTP exchange driven through undici's dispatch handler API: bytes go straight from the
// socket parser into the SSE framer and the protocol handler, with no Readable stream, async
// iterator or per-chunk promise in between (the request() path cost ~3× the CPU per request).
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { ProtocolHandler, ResponseState } from './protocols.ts';
import { SseParser } from './sse.ts';

const ERROR_TEXT_MAX = 500;

/** What the exchange learned; the client turns it into a record. */
export interface ExchangeResult {
  firstByteNs: number | null;
  doneNs: number;
  httpStatus: number | null;
  /** 'ok', or the failure the record gets. */
  outcome: 'ok' | 'http_error' | 'stream_error' | 'transport';
  error: string | null;
  /** The error undici reported (connection refused, reset, an abort reason). */
  cause: unknown;
}

export interface ExchangeOptions {
  clock: Clock;
  handler: ProtocolHandler;
  state: ResponseState;
  stream: boolean;
  /** Sees each stream event's data text (benchmarks read server stamps from it) until it returns false. */
  onEvent?: (data: string, tNs: number) => boolean | void;
  /** Sees a non-streamed 2xx JSON body (e.g. routed_experts in vLLM's choices). */
  onBody?: (body: Record<string, unknown>) => void;
}

/**
 * A legacy-style undici handler (onConnect/onHeaders/onData/onComplete/onError), which undici
 * calls without wrapping. `done` resolves once, whatever happens; `abort(reason)` ends it early.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly done: Promise<ExchangeResult>;
  private resolve!: (r: ExchangeResult) => void;
  private abortFn: ((err: Error) => void) | null = null;
  private reason: Error | null = null;
  private finished = false;
  private firstByteNs: number | null = null;
  private httpStatus: number | null = null;
  private decoder: TextDecoder | null = null;
  private parser: SseParser | null = null;
  private problem: string | null = null;
  private errorText = '';
  private body: Buffer[] | null = null;
  /** When the bytes being parsed arrived: every event in one read gets it (one clock read). */
  private arrivalNs = 0;

  constructor(private readonly o: ExchangeOptions) {
    this.done = new Promise((r) => (this.resolve = r));
  }

  /** Cancels the exchange (before or after it is connected); `done` reports `reason`. */
  abort(reason: Error): void {
    if (this.finished || this.reason) return;
    this.reason = reason;
    if (this.abortFn) this.abortFn(reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.reason) abort(this.reason);
  }

  onHeaders(statusCode: number, rawHeaders?: Buffer[] | string[] | null): boolean {
    this.firstByteNs = this.o.clock.nowNs();
    this.httpStatus = statusCode;
    if (rawHeaders) this.gpuHeader(rawHeaders);
    if (statusCode < 200 || statusCode >= 300) {
      this.decoder = new TextDecoder();
    } else if (this.o.stream) {
      this.parser = new SseParser(this.sink());
    } else {
      this.body = [];
    }
    return true;
  }

  /** `x-gpu-id: N`: the GPU a front (simulated server, `servelab imbalance balance`) sent the request to. */
  private gpuHeader(raw: Buffer[] | string[]): void {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!;
      if (k.length !== 8 || k.toString().toLowerCase() !== 'x-gpu-id') continue;
      const v = Number(raw[i + 1]!.toString());
      if (Number.isInteger(v) && v >= 0) this.o.state.gpu = v;
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return true;
    if (this.parser) {
      if (this.parser.done) return true; // after the end event: drained so the connection stays alive
      // stamped before decoding and parsing: a token's time is when its bytes came in, not when
      // the events ahead of it in the same read had been parsed
      this.arrivalNs = this.o.clock.nowNs();
      this.parser.push(chunk);
      if (this.parser.done && !this.o.state.ended) {
        // a malformed stream: stop reading it now (the connection is closed)
        this.finish('stream_error', this.problem ?? this.o.state.error, null);
        this.abortFn?.(new Error('malformed stream'));
      }
    } else if (this.body) {
      this.body.push(chunk);
    } else if (this.errorText.length < ERROR_TEXT_MAX) {
      this.errorText += this.decoder!.decode(chunk, { stream: true });
    }
    return true;
  }

  onComplete(): void {
    if (this.finished) return;
    const { state, handler } = this.o;
    const status = this.httpStatus ?? 0;
    if (status < 200 || status >= 300) {
      this.finish('http_error', `HTTP ${status}: ${this.errorText.slice(0, ERROR_TEXT_MAX)}`, null);
    } else if (this.parser) {
      if (!this.parser.done) {
        this.arrivalNs = this.o.clock.nowNs();
        this.parser.end();
      }
      const err =
        this.problem ?? state.error ?? (state.ended ? null : handler.doneSentinel ? 'stream ended without [DONE]' : 'stream ended without stop:true');
      this.finish(err === null ? 'ok' : 'stream_error', err, null, state.endedNs);
    } else {
      const doneNs = this.o.clock.nowNs();
      const text = Buffer.concat(this.body ?? []).toString('utf8');
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        this.finish('stream_error', `response is not JSON: ${text.slice(0, 200)}`, null, doneNs);
        return;
      }
      handler.whole(state, json, doneNs);
      this.o.onBody?.(json);
      this.finish(state.error === null ? 'ok' : 'stream_error', state.error, null, doneNs);
    }
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finish('transport', null, this.reason ?? err);
  }

  private finish(outcome: ExchangeResult['outcome'], error: string | null, cause: unknown, doneNs?: number | null): void {
    if (this.finished) return;
    this.finished = true;
    this.resolve({ firstByteNs: this.firstByteNs, doneNs: doneNs ?? this.o.clock.nowNs(), httpStatus: this.httpStatus, outcome, error, cause });
  }

  private sink() {
    const { state, handler } = this.o;
    let onEvent = this.o.onEvent;
    return {
      event: (b: Buffer, start: number, end: number): boolean => {
        const t = this.arrivalNs;
        if (isDone(b, start, end)) {
          state.ended = true;
          state.endedNs = t;
          return false;
        }
        if (!handler.fast?.(state, b, start, end, t)) {
          const data = b.toString('utf8', start, end);
          let ev: Record<string, unknown>;
          try {
            ev = JSON.parse(data) as Record<string, unknown>;
          } catch {
            this.problem = `malformed SSE data: ${data.slice(0, 200)}`;
            return false;
          }
          handler.event(state, ev, t);
          if (onEvent?.(data, t) === false) onEvent = undefined;
        } else if (onEvent?.(b.toString('utf8', start, end), t) === false) onEvent = undefined;
        if (state.ended && !handler.doneSentinel) {
          state.endedNs = t;
          return false;
        }
        return true;
      },
      malformed: (line: string): void => {
        this.problem = `malformed SSE line: ${line.slice(0, 200)}`;
      },
    };
  }
}

/** The data is exactly `[DONE]`. */
function isDone(b: Buffer, start: number, end: number): boolean {
  return end - start === 6 && b[start] === 91 && b[start + 1] === 68 && b[start + 2] === 79 && b[start + 3] === 78 && b[start + 4] === 69 && b[start + 5] === 93;
}
