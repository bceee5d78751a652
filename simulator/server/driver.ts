// The real-clock driver: maps wall time to simulated seconds, advances each replica's engine
// when its next step ends, and hands every token to its request the moment it is due.
// Tokens that became due in one wake-up are written together, then lateness (sent − due) is
// measured per token against the wall clock; replies that ended close after all those writes.
// The timer is armed up to ~1 ms early and the driver spins to the due instant, so the timer's
// millisecond granularity adds no lateness.
import type { Bottleneck, EngineListener, EngineRequest, FinishReason, OnlineEngine } from '../types.ts';

/** Where a request's engine events go; the HTTP layer implements it per protocol. */
export interface RequestSink {
  onScheduled?(t: number): void;
  /** `n` tokens became due at simulated time `t`; buffer them, flush() writes. */
  onTokens(n: number, t: number): void;
  onFinish(reason: FinishReason, t: number): void;
  /**
   * Writes what was buffered, then reports each written group of `n` tokens due at `due`.
   * Returns true when the reply has ended in the model but its closing frames (usage, [DONE],
   * the stop event, the end of the reply) wait for finishReply, which the driver calls once
   * every token of the step is out: closing work does not delay other requests' tokens.
   */
  flush(report: (due: number, n: number) => void): boolean | void;
  finishReply?(): void;
}

export interface StepInfo {
  step: number;
  start: number;
  end: number;
  batchSize: number;
  prefillTokens: number;
  decodeTokens: number;
  kvUsage: number;
  waiting: number;
  bottleneck: Bottleneck;
  /** Iterations covered by this call (a closed-form decode stretch has > 1). */
  steps?: number;
}

export interface DriverHooks {
  onGates?(replica: number, step: number, t: number, counts: number[][], stepTokens: number): void;
  onStep?(replica: number, info: StepInfo): void;
  onPreempt?(replica: number, id: string, t: number): void;
  /** An exception from an engine step or a sink's write, on a timer (nothing else to throw to). */
  onError?(replica: number, err: unknown): void;
  /** A replica's timer fired `lateSeconds` after the step end it was armed for (host scheduling, or its own event loop busy). */
  onWakeup?(lateSeconds: number): void;
  /** Lateness of `count` tokens that were sent `lateSeconds` after they were due. */
  onLateness?(lateSeconds: number, count: number): void;
}

export type EngineFactory = (replica: number, listener: EngineListener) => OnlineEngine;

export interface DriverEffects {
  /** Monotonic milliseconds (performance.now). */
  nowMs: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  /**
   * Busy-waits until nowMs() reaches `ms`. With it the driver arms its timer WAKE_EARLY_MS
   * before a step ends and spins to the end; without it (manual clocks) it arms for the end.
   */
  spinUntil?: (ms: number) => void;
}

export const realEffects: DriverEffects = {
  nowMs: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  spinUntil: (ms) => {
    while (performance.now() < ms);
  },
};

/**
 * How early the timer is armed before a step's end. setTimeout(floor(d)) fires ~0.2 ms after
 * now + floor(d) at the median here (p90 0.3 ms), so the wake comes 0–1 ms before the end
 * and the spin averages ~0.6 ms; a whole millisecond spun ~1.3 ms per step.
 */
export const WAKE_EARLY_MS = 0.3;
/** Longest spin: a wake-up earlier than this before due re-arms instead of spinning. */
const MAX_SPIN_MS = 2;

class ReplicaState {
  engine!: OnlineEngine;
  readonly sinks = new Map<string, RequestSink>();
  /** Sinks with events since the last flush, in event order. */
  readonly dirty = new Set<RequestSink>();
  timer: unknown = undefined;
  armedFor: number | undefined;
  constructor(readonly index: number) {}
}

export class RealClockDriver {
  readonly replicas: ReplicaState[] = [];
  private readonly t0: number;
  private closed = false;

  constructor(
    replicaCount: number,
    createEngine: EngineFactory,
    private readonly hooks: DriverHooks = {},
    private readonly fx: DriverEffects = realEffects,
  ) {
    this.t0 = fx.nowMs();
    for (let r = 0; r < replicaCount; r++) {
      const st = new ReplicaState(r);
      st.engine = createEngine(r, this.listener(st));
      this.replicas.push(st);
    }
  }

  /** Simulated seconds since the driver started (1 simulated second = 1 wall second). */
  simNow(): number {
    return (this.fx.nowMs() - this.t0) / 1000;
  }

  /** Wall ms of a simulated time. */
  wallMsOf(t: number): number {
    return this.t0 + t * 1000;
  }

  /** Number of requests in flight (added, not finished) on a replica. */
  inFlight(replica: number): number {
    return this.replicas[replica]!.sinks.size;
  }

  engine(replica: number): OnlineEngine {
    return this.replicas[replica]!.engine;
  }

  submit(replica: number, req: Omit<EngineRequest, 'arrival'>, sink: RequestSink): void {
    const st = this.replicas[replica]!;
    const now = this.simNow();
    // Bring the engine to now first, so the request joins the step after the one in flight.
    this.advance(st, now, false);
    st.sinks.set(req.id, sink);
    try {
      st.engine.add({ ...req, arrival: now });
    } catch (err) {
      st.sinks.delete(req.id);
      throw err;
    }
    // The engine may finish a request inside add (e.g. a prompt that can never fit the KV cache).
    if (st.dirty.size) this.flush(st);
    this.arm(st);
  }

  abort(replica: number, id: string): void {
    const st = this.replicas[replica]!;
    if (!st.sinks.has(id)) return;
    st.sinks.delete(id);
    st.engine.abort(id);
    this.arm(st);
  }

  close(): void {
    this.closed = true;
    for (const st of this.replicas) {
      if (st.timer !== undefined) this.fx.clearTimer(st.timer);
      st.timer = undefined;
    }
  }

  private listener(st: ReplicaState): EngineListener {
    const r = st.index;
    return {
      onScheduled: (id, t) => st.sinks.get(id)?.onScheduled?.(t),
      onTokens: (id, t, n) => {
        const sink = st.sinks.get(id);
        if (!sink) return;
        sink.onTokens(n, t);
        st.dirty.add(sink);
      },
      onFinish: (id, t, reason) => {
        const sink = st.sinks.get(id);
        if (!sink) return;
        st.sinks.delete(id);
        sink.onFinish(reason, t);
        st.dirty.add(sink);
      },
      onPreempt: (id, t) => this.hooks.onPreempt?.(r, id, t),
      onGates: (step, t, counts, stepTokens) => this.hooks.onGates?.(r, step, t, counts, stepTokens),
      onStep: (info) => this.hooks.onStep?.(r, info),
    };
  }

  private advance(st: ReplicaState, t: number, rearm = true): void {
    st.engine.advanceTo(t);
    if (st.dirty.size) this.flush(st);
    if (rearm) this.arm(st);
  }

  private flush(st: ReplicaState): void {
    const onLate = this.hooks.onLateness;
    // The sink reports after its write, so the clock read includes the write's own cost.
    let sentMs = -1;
    const report = (due: number, n: number) => {
      if (sentMs < 0) sentMs = this.fx.nowMs();
      onLate?.(Math.max(0, (sentMs - this.wallMsOf(due)) / 1000), n);
    };
    let closing: RequestSink[] | undefined;
    for (const sink of st.dirty) {
      sentMs = -1;
      if (sink.flush(report) === true) (closing ??= []).push(sink);
    }
    st.dirty.clear();
    if (closing) for (const sink of closing) sink.finishReply?.();
  }

  /** Arms the replica's timer for the engine's next event (or disarms it when idle). */
  private arm(st: ReplicaState): void {
    if (this.closed) return;
    const next = st.engine.nextEventTime();
    if (next === undefined) {
      if (st.timer !== undefined) this.fx.clearTimer(st.timer);
      st.timer = undefined;
      st.armedFor = undefined;
      return;
    }
    if (st.timer !== undefined && st.armedFor === next) return;
    if (st.timer !== undefined) this.fx.clearTimer(st.timer);
    st.armedFor = next;
    const dueMs = this.wallMsOf(next);
    const spin = this.fx.spinUntil;
    const now = this.fx.nowMs();
    const delay = spin ? Math.max(0, Math.floor(dueMs - now - WAKE_EARLY_MS)) : Math.max(0, Math.ceil(dueMs - now));
    st.timer = this.fx.setTimer(() => {
      st.timer = undefined;
      st.armedFor = undefined;
      if (this.closed) return;
      const woke = this.fx.nowMs();
      if (woke < dueMs) {
        // Early by design: spin the last stretch so the step's tokens leave at its end.
        if (!spin || dueMs - woke > MAX_SPIN_MS) {
          this.arm(st);
          return;
        }
        spin(dueMs);
      }
      this.hooks.onWakeup?.(Math.max(0, (woke - dueMs) / 1000));
      try {
        this.advance(st, this.simNow());
      } catch (err) {
        // An engine or writer fault fails loudly but keeps the server (and other replicas) up.
        this.hooks.onError?.(st.index, err);
        st.dirty.clear();
        this.arm(st);
      }
    }, delay);
  }
}
