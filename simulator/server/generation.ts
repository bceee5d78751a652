// One generation request on its way through the engine: what the protocol layer parsed, and
// the sink base class that buffers the engine's token events, applies stream faults, keeps
// the request-level metrics, and lets each protocol write its own frames.
import type { ServerResponse } from 'node:http';
import type { FinishReason } from '../types.ts';
import type { RequestSink } from './driver.ts';
import type { OutputText } from './text.ts';

export interface GenRequest {
  id: string;
  replica: number;
  /** The model name echoed in responses (the adapter name when one is used). */
  model: string;
  adapter: string | null;
  /** Whether the adapter was in GPU memory when the request was scheduled (set then; LoRA only). */
  adapterResident?: boolean;
  prompt: string;
  promptTokens: number;
  maxTokens: number;
  minTokens: number;
  ignoreEos: boolean;
  naturalTokens: number;
  text: OutputText;
  stream: boolean;
  /** Simulated arrival time, set on submit. */
  arrival: number;
}

/** A group of tokens that became due together (one engine step). */
export interface TokenGroup {
  t: number;
  n: number;
  /** Index of the group's first output token. */
  from: number;
}

/** Stream faults decided when the request is admitted. */
export interface StreamFaults {
  /** After this many tokens, an error event is sent after HTTP 200 and the stream ends. */
  errorAfter?: number;
  /** After this many tokens, the stream pauses for stallMs. */
  stallAfter?: number;
  stallMs?: number;
}

/** What the server records when a request's events go out (metrics live in the instance). */
export interface SinkObserver {
  firstToken(gen: GenRequest, t: number): void;
  /** A token group after the first: gap since the previous group, in simulated seconds. */
  interToken(gen: GenRequest, gap: number, n: number): void;
  finished(gen: GenRequest, reason: FinishReason, t: number, tokens: number): void;
  scheduled(gen: GenRequest, t: number): void;
  /** The stream ended early (fault or client gone): abort it in the engine. */
  abort(gen: GenRequest): void;
}

export abstract class GenerationSink implements RequestSink {
  /** Tokens written (or buffered for a non-streaming reply) so far. */
  emitted = 0;
  firstT: number | undefined;
  lastT: number | undefined;
  scheduledT: number | undefined;
  finish: { reason: FinishReason; t: number } | undefined;
  done = false;
  protected pending: TokenGroup[] = [];
  /** A streamed reply that ended in the model; its closing frames wait for finishReply. */
  private closing: { reason: FinishReason; t: number } | undefined;
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private queued = 0;

  constructor(
    readonly gen: GenRequest,
    readonly res: ServerResponse,
    readonly observer: SinkObserver,
    readonly faults: StreamFaults = {},
  ) {}

  onScheduled(t: number): void {
    this.scheduledT = t;
    this.observer.scheduled(this.gen, t);
  }

  onTokens(n: number, t: number): void {
    this.pending.push({ t, n, from: this.emitted + this.queued });
    this.queued += n;
  }

  onFinish(reason: FinishReason, t: number): void {
    this.finish = { reason, t };
  }

  flush(report: (due: number, n: number) => void): boolean {
    if (this.done) return false;
    if (this.stalledUntil) return false; // the stall timer flushes what piled up
    const stallAt = this.faults.stallAfter;
    if (stallAt !== undefined && this.faults.stallMs && this.emitted + this.queued > stallAt) {
      // Write up to the stall point now, hold the rest for stallMs.
      this.faults.stallAfter = undefined;
      this.stalledUntil = 1;
      const keep: TokenGroup[] = [];
      const now: TokenGroup[] = [];
      for (const g of this.pending) (g.from < stallAt ? now : keep).push(g);
      this.pending = now;
      const fin = this.finish;
      this.finish = undefined;
      this.writeGroups(report);
      this.pending = keep;
      this.finish = fin;
      this.stallTimer = setTimeout(() => {
        this.stalledUntil = 0;
        // stalled tokens are late on purpose: not host lateness
        if (this.flush(() => {})) this.finishReply();
      }, this.faults.stallMs);
      return false;
    }
    return this.writeGroups(report);
  }

  /** Writes the closing frames of a streamed reply that ended at the last flush, and ends it. */
  finishReply(): void {
    const f = this.closing;
    this.closing = undefined;
    if (!f || this.done) return;
    this.writeClosing(f);
    this.observer.finished(this.gen, f.reason, f.t, this.emitted);
    this.close();
  }

  /** Returns true when a streamed reply ended and waits for finishReply. */
  private writeGroups(report: (due: number, n: number) => void): boolean {
    const groups = this.pending;
    this.pending = [];
    const errAt = this.faults.errorAfter;
    for (const g of groups) {
      if (this.firstT === undefined) {
        this.firstT = g.t;
        this.observer.firstToken(this.gen, g.t);
      } else if (this.lastT !== undefined) {
        this.observer.interToken(this.gen, g.t - this.lastT, g.n);
      }
      this.lastT = g.t;
    }
    if (errAt !== undefined && this.emitted + this.queued >= errAt) {
      // Emit what comes before the error point, then the mid-stream error.
      const before = groups.filter((g) => g.from < errAt);
      this.emitted += this.writeTokens(before, undefined);
      this.queued = 0;
      this.writeStreamError();
      this.close();
      this.observer.abort(this.gen);
      return false;
    }
    const n = this.writeTokens(groups, this.finish);
    this.emitted += n;
    this.queued -= n;
    for (const g of groups) report(g.t, g.n);
    if (!this.finish) return false;
    if (this.gen.stream) {
      this.closing = this.finish;
      return true;
    }
    this.observer.finished(this.gen, this.finish.reason, this.finish.t, this.emitted);
    this.close();
    return false;
  }

  /** Client went away or the server is closing. */
  cancel(): void {
    if (this.done) return;
    this.close();
  }

  protected close(): void {
    this.done = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (!this.res.writableEnded) this.res.end();
  }

  /**
   * Writes the groups (streaming: a frame per group; otherwise buffer) and, when `finish` is
   * given, the frame that carries the finish reason (streaming) or the whole reply. Returns the
   * tokens written.
   */
  protected abstract writeTokens(groups: TokenGroup[], finish: { reason: FinishReason; t: number } | undefined): number;
  /** A streamed reply's closing frames after the finish (usage, [DONE], a stop event); ends the reply. */
  protected abstract writeClosing(finish: { reason: FinishReason; t: number }): void;
  /** The protocol's mid-stream error (HTTP status already 200). */
  protected abstract writeStreamError(): void;
}
