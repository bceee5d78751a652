// The load engine: open loop from a precomputed absolute schedule (optionally capped, with
// client queue time kept as sent − scheduled), or closed loop with N users; warm-up first;
// a graceful stop that drains, then cancels, and still writes a record for every request.
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { RunHandle } from '../core/run.ts';
import type { RequestRecord } from '../core/schema.ts';
import { AbortReason, type Endpoint, endpointUrl, type RequestBase, RequestControl, requestBody, sendRequest } from './client.ts';
import { makePacer } from './pacer.ts';
import type { RequestSpec } from './protocols.ts';
import { pickWeighted, seededRng } from './rng.ts';

/** One prompt ready to send, with the record fields known before sending. */
export interface WorkItem {
  prompt: string;
  maxTokens?: number | null;
  ignoreEos?: boolean;
  adapter?: string | null;
  /** Record fields known up front: prompt_hash, prompt_words, prompt_tokens_client, dataset, gpu… */
  base?: Partial<RequestBase>;
}

export type LoadMode =
  | { kind: 'open'; /** absolute send times, ns from the load start */ schedule: Float64Array; maxConcurrency?: number | null }
  | { kind: 'closed'; users: number; thinkTimeMs?: number; rampUpS?: number; durationS?: number; count?: number };

export interface LoadPlan {
  endpoints: Endpoint[];
  items: WorkItem[];
  mode: LoadMode;
  stream: boolean;
  warmups?: number;
  timeoutMs?: number;
  /** How long a stop waits for requests in flight before cancelling them (ms). */
  graceMs?: number;
  seed?: number;
  /** Write `chunks` records. */
  saveChunks?: boolean;
  model?: string | null;
  countTokens?: ((text: string) => number) | null;
  /**
   * Closed loop only: makes each user's next item when it is about to send (instead of cycling
   * `items`), so a generator can size a prompt from the load at that moment (the imbalance
   * generator). Its item's `base.phase` tags the record.
   */
  source?: () => WorkItem | Promise<WorkItem>;
}

export interface LoadEffects {
  clock: Clock;
  dispatcher: Dispatcher;
  /** Every finished record, e.g. for the progress line. */
  onRecord?: (r: Omit<RequestRecord, 'run' | 'shard'>) => void;
  /** Every non-streamed 2xx JSON body (the MoE bench reads routed_experts from it). */
  onBody?: (body: Record<string, unknown>) => void;
}

export interface LoadOutcome {
  sent: number;
  records: number;
  stopped: boolean;
  startNs: number;
  endNs: number;
}

export class LoadEngine {
  private inflight = new Set<RequestControl>();
  /** Request bodies by item and endpoint index: the same prompt serializes the same. */
  private bodies = new WeakMap<WorkItem, (string | undefined)[]>();
  private stopping = false;
  private stopWake = new AbortController();
  private seq = 0;
  private itemIdx = 0;
  private records = 0;
  private sent = 0;
  private active = 0;
  private pending: Promise<void>[] = [];
  private queue: { item: WorkItem; scheduledNs: number; phase: 'warmup' | 'main' }[] = [];
  private rng;
  private weights: number[];

  constructor(
    private readonly run: RunHandle,
    private readonly plan: LoadPlan,
    private readonly fx: LoadEffects,
  ) {
    if (plan.endpoints.length === 0) throw new Error('no endpoint to load');
    if (plan.items.length === 0 && !plan.source) throw new Error('no prompt to send');
    this.rng = seededRng(plan.seed ?? 0);
    this.weights = plan.endpoints.map((e) => e.weight ?? 1);
    // A load that joins a run (the next step of a probe or sweep, a resume) numbers its requests
    // on from the shard's records, so a request id stays unique in the run (finalize checks it).
    this.seq = run.rawLineCount('requests');
  }

  /** Requests in flight now (the progress line's active users). */
  get activeRequests(): number {
    return this.active;
  }

  /** Graceful stop: issue nothing more, drain for graceMs, then cancel what is left. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopWake.abort();
    const grace = this.plan.graceMs ?? 5_000;
    const t = setTimeout(() => {
      for (const ac of this.inflight) ac.abort(new AbortReason('cancelled'));
    }, grace);
    t.unref();
  }

  /** Cancels everything in flight now (a second Ctrl-C). */
  cancelNow(): void {
    this.stop();
    for (const ac of this.inflight) ac.abort(new AbortReason('cancelled'));
  }

  get stopped(): boolean {
    return this.stopping;
  }

  async runLoad(): Promise<LoadOutcome> {
    const startNs = this.fx.clock.nowNs();
    if (this.plan.warmups && this.plan.warmups > 0) await this.warmup(this.plan.warmups);
    const mainStart = this.fx.clock.nowNs();
    const mode = this.plan.mode;
    if (!this.stopping) {
      if (mode.kind === 'open') await this.openLoop(mode, mainStart);
      else await this.closedLoop(mode, mainStart);
    }
    await this.drain();
    return { sent: this.sent, records: this.records, stopped: this.stopping, startNs, endNs: this.fx.clock.nowNs() };
  }

  private nextItem(): WorkItem {
    const it = this.plan.items[this.itemIdx % this.plan.items.length]!;
    this.itemIdx++;
    return it;
  }

  private async warmup(n: number): Promise<void> {
    const cap = this.plan.mode.kind === 'open' ? (this.plan.mode.maxConcurrency ?? n) : this.plan.mode.users;
    const users = Math.max(1, Math.min(cap, n));
    let left = n;
    await Promise.all(
      Array.from({ length: users }, async () => {
        while (left > 0 && !this.stopping) {
          left--;
          await this.launch(this.nextItem(), this.fx.clock.nowNs(), 'warmup');
        }
      }),
    );
    this.itemIdx = 0;
  }

  private async openLoop(mode: Extract<LoadMode, { kind: 'open' }>, t0: number): Promise<void> {
    const pacer = makePacer(this.fx.clock);
    const cap = mode.maxConcurrency ?? Infinity;
    for (let i = 0; i < mode.schedule.length; i++) {
      const at = t0 + mode.schedule[i]!;
      await pacer.until(at, this.stopWake.signal);
      if (this.stopping) break;
      const item = this.nextItem();
      if (this.active >= cap) this.queue.push({ item, scheduledNs: at, phase: 'main' });
      else this.pending.push(this.launch(item, at, 'main'));
      if (this.pending.length > 4096) this.pending = this.pending.filter((p) => !(p as { done?: boolean }).done);
    }
  }

  private async closedLoop(mode: Extract<LoadMode, { kind: 'closed' }>, t0: number): Promise<void> {
    const deadline = mode.durationS !== undefined ? t0 + mode.durationS * 1e9 : Infinity;
    let left = mode.count ?? Infinity;
    const pacer = makePacer(this.fx.clock);
    const user = async (u: number) => {
      const startAt = t0 + ((mode.rampUpS ?? 0) * 1e9 * u) / mode.users;
      await pacer.until(startAt, this.stopWake.signal);
      while (!this.stopping && left > 0 && this.fx.clock.nowNs() < deadline) {
        left--;
        const item = this.plan.source ? await this.plan.source() : this.nextItem();
        const phase = item.base?.phase === 'warmup' ? 'warmup' : 'main';
        if (this.stopping) {
          // made while the stop came (a source may wait for a look-up): recorded, not sent
          this.write(this.cancelledRecord(item, this.fx.clock.nowNs(), phase), null);
          break;
        }
        await this.launch(item, this.fx.clock.nowNs(), phase);
        if (mode.thinkTimeMs && !this.stopping) await pacer.until(this.fx.clock.nowNs() + mode.thinkTimeMs * 1e6, this.stopWake.signal);
      }
    };
    await Promise.all(Array.from({ length: mode.users }, (_, u) => user(u)));
  }

  /** Waits for everything in flight; queued requests left by a stop become cancelled records. */
  private async drain(): Promise<void> {
    for (;;) {
      const open = this.pending;
      this.pending = [];
      await Promise.all(open);
      if (this.pending.length === 0 && (this.queue.length === 0 || this.stopping)) break;
    }
    for (const q of this.queue.splice(0)) this.write(this.cancelledRecord(q.item, q.scheduledNs, q.phase), null);
  }

  private spec(item: WorkItem): RequestSpec {
    return { prompt: item.prompt, model: this.plan.model, adapter: item.adapter ?? null, maxTokens: item.maxTokens ?? null, ignoreEos: item.ignoreEos, stream: this.plan.stream };
  }

  private newId(phase: 'warmup' | 'main'): string {
    return `${phase === 'warmup' ? 'w' : 'r'}${this.run.shard}-${String(this.seq++).padStart(6, '0')}`;
  }

  private pickEndpoint(): Endpoint {
    const eps = this.plan.endpoints;
    return eps.length === 1 ? eps[0]! : eps[pickWeighted(this.weights, this.rng)]!;
  }

  private bodyFor(item: WorkItem, ep: Endpoint): string {
    const k = this.plan.endpoints.length === 1 ? 0 : this.plan.endpoints.indexOf(ep);
    let list = this.bodies.get(item);
    if (!list) this.bodies.set(item, (list = []));
    return (list[k] ??= requestBody(ep, this.spec(item)));
  }

  private launch(item: WorkItem, scheduledNs: number, phase: 'warmup' | 'main'): Promise<void> {
    const ep = this.pickEndpoint();
    const ac = new RequestControl();
    this.inflight.add(ac);
    this.active++;
    this.sent++;
    const requestId = this.newId(phase);
    const p = sendRequest(ep, this.spec(item), { ...item.base, phase, scheduled_ns: scheduledNs }, {
      clock: this.fx.clock,
      dispatcher: this.fx.dispatcher,
      requestId,
      scheduledNs,
      timeoutMs: this.plan.timeoutMs,
      controller: ac,
      body: this.bodyFor(item, ep),
      countTokens: this.plan.countTokens ?? null,
      onBody: this.fx.onBody,
    })
      // sendRequest turns every network outcome into a record; this catches a client bug so the
      // request is still written rather than lost
      .catch((err: Error) => ({
        record: { ...this.cancelledRecord(item, scheduledNs, phase, requestId, ep), status: 'stream_error' as const, error: `client error: ${err.message}` },
        state: null,
      }))
      .then(({ record, state }) => {
        this.inflight.delete(ac);
        this.active--;
        this.write(record, state && state.chunkNs.length && this.plan.saveChunks ? state : null);
        const next = this.stopping ? undefined : this.queue.shift();
        if (next) this.pending.push(this.launch(next.item, next.scheduledNs, next.phase));
        (p as { done?: boolean }).done = true;
      });
    return p;
  }

  private write(record: Omit<RequestRecord, 'run' | 'shard'>, state: { chunkNs: number[]; chunkTokens: (number | null)[] } | null): void {
    this.run.append('requests', record);
    this.records++;
    if (state) this.run.appendChunks(record.request_id, state.chunkNs, state.chunkTokens);
    this.fx.onRecord?.(record);
  }

  /** The record of a request that never completed sending: the endpoint it went to, or (queued, never sent) one picked now. */
  private cancelledRecord(item: WorkItem, scheduledNs: number, phase: 'warmup' | 'main', requestId?: string, ep: Endpoint = this.pickEndpoint()): Omit<RequestRecord, 'run' | 'shard'> {
    return {
      ...item.base,
      request_id: requestId ?? this.newId(phase),
      endpoint: ep.name,
      protocol: ep.protocol,
      url: endpointUrl(ep),
      model: this.plan.model ?? ep.model ?? null,
      adapter: item.adapter ?? null,
      phase,
      output_tokens_requested: item.maxTokens ?? null,
      scheduled_ns: scheduledNs,
      status: 'cancelled',
      error: 'stopped before it was sent (client queue)',
    };
  }
}

/**
 * SIGINT and SIGTERM stop a load gracefully: the first issues nothing more and drains the
 * requests in flight for the grace period (each still gets its record), a second cancels them
 * now. Either way the caller finishes the run (incomplete) and prints its summary. A signal
 * that comes before the engine exists stops it as soon as it is attached.
 */
export function drainOnStopSignals(graceS: number, write = (s: string) => process.stderr.write(s)): { attach(e: LoadEngine): void; release(): void; readonly stopped: boolean } {
  let signals = 0;
  let engine: LoadEngine | undefined;
  const apply = () => {
    if (signals >= 2) engine?.cancelNow();
    else if (signals === 1) engine?.stop();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) write(`\n${sig}: stopping: no new requests; waiting up to ${graceS} s for those in flight (another Ctrl-C or SIGTERM cancels them)\n`);
    apply();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    attach(e) {
      engine = e;
      apply();
    },
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
    /** A stop signal came: a command running several loads starts no further one. */
    get stopped() {
      return signals > 0;
    },
  };
}
