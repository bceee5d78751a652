// The token-level engine of one replica, vLLM-V1-like: a token budget per step, chunked
// prefill (running first, then waiting), paged KV with recompute preemption, LoRA slots, MoE
// routing, and closed-form decode stretches. Event-driven: its driver calls advanceTo(t).
import type { BatchShape, Bottleneck, EngineListener, EngineRequest, EngineStats, FinishInfo, FinishReason, OnlineEngine } from '../types.ts';
import { type EngineConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { BlockManager, stepsWithinFreeBlocks } from './kv.ts';
import { LoraManager } from './lora.ts';
import { LazyDecoders } from './lazy.ts';
import { type MoeRouter, createMoeRouter } from './moe-router.ts';
import { FifoQueue, OrderedQueue, Seq, type WaitQueue, byPriority, victimIndex } from './seq.ts';

export interface Engine extends OnlineEngine {
  readonly config: ResolvedConfig;
  readonly kv: BlockManager;
  readonly lora: LoraManager | undefined;
  readonly moe: MoeRouter | undefined;
  /** Requests in the replica (waiting + running). */
  outstanding(): number;
  /** Requests queued, not yet running. */
  waitingCount(): number;
  /** Σ over its requests of uncomputed tokens + output tokens still allowed (JSQ by tokens). */
  outstandingTokens(): number;
  /** The engine's clock: the latest of advanceTo's t and the arrivals added. */
  now(): number;
}

export function createEngine(config: EngineConfig, listener: EngineListener): Engine {
  return new TokenEngine(config, listener);
}

class TokenEngine implements Engine {
  readonly config: ResolvedConfig;
  readonly kv: BlockManager;
  readonly lora: LoraManager | undefined;
  readonly moe: MoeRouter | undefined;
  private readonly L: EngineListener;
  private readonly waiting: WaitQueue;
  private running: Seq[] = [];
  private byId = new Map<string, Seq>();
  private seqNo = 0;
  private clock = 0;
  private lastEnd = 0;
  private pending = 0;
  private readonly st: EngineStats = { running: 0, waiting: 0, kvUsage: 0, preemptions: 0, promptTokens: 0, generationTokens: 0, steps: 0 };
  // The step in flight.
  private cur = false;
  private curStart = 0;
  private curEnd = 0;
  private curBatch = 0;
  private curPrefill = 0;
  private curDecode = 0;
  private curCtx = 0;
  private curLoraTokens = 0;
  private curPreempted = 0;
  private curSwap = 0;
  private curBottleneck: Bottleneck = 'overhead';
  private curGates: number[][] | null = null;
  private ends = new Float64Array(64);
  // Lazy decode: decoding requests advance together, one fast step at a time, without being
  // touched; the prefilling ones (few) are scheduled one by one. A step that could preempt or
  // that overflows the token budget falls back to the eager pass over every request.
  private readonly lazyOn: boolean;
  private readonly lz: LazyDecoders;
  private curFast = false;
  private readonly shape: BatchShape = { prefillSeqs: 0, prefillTokens: 0, prefillAttnWork: 0, decodeSeqs: 0, decodeCtxSum: 0 };

  constructor(config: EngineConfig, listener: EngineListener) {
    this.config = resolveConfig(config);
    this.L = listener;
    this.kv = new BlockManager(config.kvBlocks, this.config.blockSize, this.config.watermark);
    this.lora = config.lora ? new LoraManager(config.lora) : undefined;
    this.moe = config.moe ? ('route' in config.moe ? config.moe : createMoeRouter(config.moe)) : undefined;
    const order = this.config.order ?? (this.config.policy === 'priority' ? byPriority : undefined);
    this.waiting = order ? new OrderedQueue(order) : new FifoQueue();
    this.lazyOn = this.config.lazyDecode && !this.config.tokenEvents && !this.moe && !this.lora;
    this.lz = new LazyDecoders(this.kv.blockSize);
  }

  private runningCount(): number {
    return this.running.length - this.lz.dead;
  }

  now(): number {
    return this.clock;
  }
  outstanding(): number {
    return this.byId.size;
  }
  outstandingTokens(): number {
    return this.pending;
  }
  waitingCount(): number {
    return this.waiting.size;
  }

  stats(): EngineStats {
    return { ...this.st, running: this.runningCount(), waiting: this.waiting.size, kvUsage: this.kv.usage() };
  }

  add(req: EngineRequest): void {
    const { id, promptTokens: p, maxTokens: m } = req;
    if (this.byId.has(id)) throw new Error(`request ${id}: id already in the engine`);
    if (!Number.isInteger(p) || p < 1) throw new Error(`request ${id}: promptTokens ${p} must be a whole number ≥ 1`);
    if (!Number.isInteger(m) || m < 1) throw new Error(`request ${id}: maxTokens ${m} must be a whole number ≥ 1`);
    if (!Number.isFinite(req.arrival)) throw new Error(`request ${id}: arrival ${req.arrival} is not a finite time`);
    if (req.arrival > this.clock) this.clock = req.arrival;
    // vLLM's stop check: min_tokens first, then EOS ('stop'), then max_tokens ('length').
    // Without naturalTokens the model never emits EOS: it runs to max_tokens.
    const eosAt = !req.ignoreEos && req.naturalTokens !== undefined ? Math.max(1, req.naturalTokens, req.minTokens ?? 0) : Infinity;
    let target = eosAt <= m ? eosAt : m;
    let reason: FinishReason = eosAt <= m ? 'stop' : 'length';
    const capacity = this.kv.total * this.kv.blockSize;
    const unfit =
      p + 1 > capacity
        ? `prompt of ${p} tokens does not fit in the KV cache (${capacity} tokens)`
        : !this.config.chunkedPrefill && p > this.config.maxNumBatchedTokens
          ? `prompt of ${p} tokens exceeds maxNumBatchedTokens ${this.config.maxNumBatchedTokens} without chunked prefill`
          : undefined;
    if (unfit) {
      const info: FinishInfo = { outputTokens: 0, firstToken: NaN, lastToken: NaN, scheduled: NaN, preemptions: 0, promptTokens: p, error: unfit };
      this.L.onFinish(id, req.arrival, 'abort', info);
      return;
    }
    if (p + target > capacity) {
      target = capacity - p;
      reason = 'length';
    }
    const s = new Seq(req, this.seqNo++, target, reason);
    this.byId.set(id, s);
    this.waiting.push(s);
    this.pending += p + m;
  }

  abort(id: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    if (s.state === 0) {
      this.waiting.remove(s);
      this.finish(s, this.clock, 'abort');
    } else if (s.lazy) {
      if (this.cur) {
        s.aborted = true; // leaves at the end of the step in flight
        this.lz.aborts.push(s);
      } else {
        this.lz.materialize(s, this.lastEnd);
        this.running.splice(this.running.indexOf(s), 1);
        this.finish(s, this.clock, 'abort');
      }
    } else if (s.sched > 0 && this.cur) {
      s.aborted = true; // leaves at the end of the step in flight
    } else {
      const i = this.running.indexOf(s);
      if (i >= 0) this.running.splice(i, 1);
      const j = this.lz.prefilling.indexOf(s);
      if (j >= 0) this.lz.prefilling.splice(j, 1);
      this.finish(s, this.clock, 'abort');
    }
  }

  nextEventTime(): number | undefined {
    if (!this.cur) {
      const start = this.nextStart();
      if (start === undefined || !this.formStep(start)) return undefined;
    }
    return this.curEnd;
  }

  advanceTo(t: number): void {
    if (t > this.clock) this.clock = t;
    for (;;) {
      if (!this.cur) {
        const start = this.nextStart();
        // A step starting exactly at t is left open so that requests added at t join it.
        if (start === undefined || start >= t) return;
        if (!this.formStep(start)) return;
        if (this.curEnd <= t && this.stretchable() && (this.curFast ? this.stretchLazy(t) : this.stretch(t))) continue;
      }
      if (this.curEnd > t) return;
      this.completeStep();
    }
  }

  // ---- scheduling ----

  private nextStart(): number | undefined {
    if (this.runningCount() > 0) return this.lastEnd;
    const head = this.waiting.peek();
    return head ? Math.max(this.lastEnd, head.req.arrival) : undefined;
  }

  private victimIndex(): number {
    return victimIndex(this.running, this.config.policy, this.config.order);
  }

  private preempt(v: Seq, vi: number, t: number): void {
    this.running.splice(vi, 1);
    this.kv.release(v.blocks);
    v.blocks = 0;
    this.pending += v.numComputed;
    v.numComputed = 0;
    v.sched = 0;
    v.state = 0;
    v.preemptions++;
    this.st.preemptions++;
    if (this.lora && v.req.adapter) this.lora.release(v.req.adapter);
    this.waiting.pushFront(v);
    this.L.onPreempt?.(v.req.id, t);
  }

  /** Forms the batch of a step starting at `start`; false when nothing can run. */
  private formStep(start: number): boolean {
    const { kv, running, lora, moe } = this;
    const bs = kv.blockSize;
    let budget = this.config.maxNumBatchedTokens;
    let preempted = 0;
    // The batch's shape, accumulated as requests are scheduled (one pass over the batch).
    let batch = 0;
    let pS = 0;
    let pT = 0;
    let pW = 0;
    let dS = 0;
    let dC = 0;
    let loraTok = 0;
    let fast = false;
    const lz = this.lz;
    if (lz.active) {
      fast = lz.fits(budget, kv.free);
      if (fast) {
        const pre = lz.prefilling;
        for (let i = 0; i < pre.length; i++) {
          const r = pre[i]!;
          const n = r.numTokens - r.numComputed;
          const need = Math.ceil((r.numComputed + n) / bs) - r.blocks;
          if (need > 0) {
            kv.allocate(need);
            r.blocks += need;
          }
          r.sched = n;
          budget -= n;
          pS++;
          pT += n;
          pW += n * (r.numComputed + n / 2);
        }
        kv.allocate(lz.blocksAt());
        budget -= lz.D;
        dS = lz.D;
        dC = lz.sumC;
        batch = lz.D + pre.length;
      } else lz.materializeAll(running, this.lastEnd);
    }
    for (let i = 0; !fast && i < running.length; i++) {
      if (budget <= 0) break;
      const r = running[i]!;
      let n = r.numTokens - r.numComputed;
      if (n > budget) n = budget;
      // Blocks beyond those held (most decode steps need none: skip the division).
      const over = r.numComputed + n - r.blocks * bs;
      const need = over > 0 ? Math.ceil(over / bs) : 0;
      let self = false;
      while (need > kv.free) {
        const vi = this.victimIndex();
        const v = running[vi]!;
        if (v.sched > 0) {
          // Under the priority policy the victim may already be in this step: take it out.
          const m = v.sched;
          batch--;
          if (v.numComputed >= v.prefillEnd) {
            dS--;
            dC -= v.numComputed;
          } else {
            pS--;
            pT -= m;
            pW -= m * (v.numComputed + m / 2);
          }
          if (lora && v.req.adapter) loraTok -= m;
          budget += m;
        }
        this.preempt(v, vi, start);
        preempted++;
        if (v === r) {
          self = true;
          break;
        }
        if (vi < i) i--;
      }
      if (self) {
        i--;
        continue;
      }
      if (need > 0) {
        kv.allocate(need);
        r.blocks += need;
      }
      r.sched = n;
      budget -= n;
      batch++;
      if (r.numComputed >= r.prefillEnd) {
        dS++;
        dC += r.numComputed;
      } else {
        pS++;
        pT += n;
        pW += n * (r.numComputed + n / 2);
      }
      if (lora && r.req.adapter) loraTok += n;
    }
    let swap = 0;
    if (preempted === 0 || running.length === 0) {
      const w = this.waiting;
      let skipped: Seq[] | null = null;
      const maxSeqs = this.config.maxNumSeqs + lz.dead;
      while (w.size > 0 && budget > 0 && running.length < maxSeqs) {
        const s = w.peek()!;
        if (s.req.arrival > start) break;
        const total = s.numTokens - s.numComputed;
        if (!this.config.chunkedPrefill && total > budget) break;
        const n = total < budget ? total : budget;
        const ad = lora ? s.req.adapter : null;
        if (ad && !lora!.canJoin(ad)) {
          (skipped ??= []).push(w.pop()!);
          continue;
        }
        if (!kv.canAdmit(Math.ceil(s.numTokens / bs), running.length > lz.dead)) break;
        w.pop();
        const need = Math.ceil(n / bs);
        kv.allocate(need);
        s.blocks = need;
        if (ad) {
          swap += lora!.acquire(ad);
          loraTok += n;
        }
        s.state = 1;
        s.sched = n;
        s.prefillEnd = s.numTokens;
        budget -= n;
        running.push(s);
        if (fast) lz.prefilling.push(s);
        batch++;
        pS++;
        pT += n;
        pW += n * (n / 2);
        // No content: an even topic mix (the id would give every synthetic request the same topic).
        if (moe && !s.routing) s.routing = moe.profile(s.req.content ?? '');
        if (Number.isNaN(s.scheduledAt)) {
          s.scheduledAt = start;
          this.L.onScheduled?.(s.req.id, start);
        }
      }
      if (skipped) for (let j = skipped.length - 1; j >= 0; j--) w.pushFront(skipped[j]!);
    }
    if (batch === 0) return false;
    let moeShape: BatchShape['moe'];
    this.curGates = null;
    if (moe) {
      moe.beginStep();
      for (let i = 0; i < running.length; i++) {
        const r = running[i]!;
        if (r.sched > 0) moe.route(r.routing!, r.sched);
      }
      const load = moe.endStep();
      moeShape = { distinctExperts: load.distinctExperts, maxRankTokens: load.maxRankTokens, maxExpertTokens: load.maxExpertTokens };
      this.curGates = load.counts;
    }
    const cost = this.price(pS, pT, pW, dS, dC, loraTok, moeShape);
    this.cur = true;
    this.curFast = fast;
    this.curStart = start;
    this.curEnd = start + (cost.seconds + swap);
    this.curBatch = batch;
    this.curPrefill = pT;
    this.curDecode = dS;
    this.curCtx = dC;
    this.curLoraTokens = loraTok;
    this.curPreempted = preempted;
    this.curSwap = swap;
    this.curBottleneck = cost.bottleneck;
    this.st.promptTokens += pT;
    return true;
  }

  private price(pS: number, pT: number, pW: number, dS: number, dC: number, loraTok: number, moe: BatchShape['moe']) {
    const s = this.shape;
    s.prefillSeqs = pS;
    s.prefillTokens = pT;
    s.prefillAttnWork = pW;
    s.decodeSeqs = dS;
    s.decodeCtxSum = dC;
    s.lora = this.lora && loraTok > 0 ? { adapters: this.lora.activeCount(), tokens: loraTok, rank: this.lora.config.rank } : undefined;
    s.moe = moe;
    return this.config.cost.stepTime(s);
  }

  private completeStep(): void {
    if (this.curFast) this.completeFast();
    else {
      this.completeEager();
      if (this.lazyOn) this.lz.lazifyAll(this.running);
    }
  }

  private completeEager(): void {
    const te = this.curEnd;
    const { running, L } = this;
    const tokenEvents = this.config.tokenEvents;
    const step = this.st.steps++;
    let w = 0;
    let computed = 0;
    let sampled = 0;
    const n = running.length;
    for (let i = 0; i < n; i++) {
      const r = running[i]!;
      const k = r.sched;
      if (k > 0) {
        const c = r.numComputed + k;
        r.numComputed = c;
        computed += k;
        r.sched = 0;
        if (r.aborted) {
          this.finish(r, te, 'abort');
          continue;
        }
        if (c === r.numTokens) {
          r.numTokens = c + 1;
          const g = ++r.generated;
          sampled++;
          if (g === 1) r.firstToken = te;
          r.lastToken = te;
          if (tokenEvents) L.onTokens(r.req.id, te, 1);
          if (g >= r.target) {
            this.finish(r, te, r.reason);
            continue;
          }
        }
      }
      if (w !== i) running[w] = r;
      w++;
    }
    running.length = w;
    this.pending -= computed;
    this.st.generationTokens += sampled;
    this.cur = false;
    this.lastEnd = te;
    if (this.curGates) L.onGates?.(step, te, this.curGates, this.curPrefill + this.curDecode);
    this.emitStep(step, te, this.curBatch, this.curPrefill, this.curDecode, this.curBottleneck, 1, this.curPreempted, this.curSwap);
  }

  private finish(s: Seq, t: number, reason: FinishReason): void {
    this.kv.release(s.blocks);
    s.blocks = 0;
    if (this.lora && s.req.adapter && s.state === 1) this.lora.release(s.req.adapter);
    s.state = 2;
    this.byId.delete(s.req.id);
    this.pending -= s.numTokens - s.numComputed + (s.req.maxTokens - s.generated);
    this.L.onFinish(s.req.id, t, reason, {
      outputTokens: s.generated,
      firstToken: s.firstToken,
      lastToken: s.lastToken,
      scheduled: s.scheduledAt,
      preemptions: s.preemptions,
      promptTokens: s.req.promptTokens,
    });
  }

  // ---- lazy decode ----

  private completeFast(): void {
    const te = this.curEnd;
    const { lz } = this;
    const step = this.st.steps++;
    let computed = lz.D;
    let sampled = lz.D;
    const pre = lz.prefilling;
    const toLazy: Seq[] = [];
    let w = 0;
    for (let i = 0; i < pre.length; i++) {
      const r = pre[i]!;
      const k = r.sched;
      const c = r.numComputed + k;
      r.numComputed = c;
      computed += k;
      r.sched = 0;
      if (r.aborted) {
        this.finish(r, te, 'abort');
        lz.dead++;
        continue;
      }
      if (c === r.numTokens) {
        r.numTokens = c + 1;
        const g = ++r.generated;
        sampled++;
        if (g === 1) r.firstToken = te;
        r.lastToken = te;
        if (g >= r.target) {
          this.finish(r, te, r.reason);
          lz.dead++;
        } else toLazy.push(r);
        continue;
      }
      pre[w++] = r;
    }
    pre.length = w;
    lz.advance();
    this.lastEnd = te;
    for (let r = lz.popFinished(te); r; r = lz.popFinished(te)) {
      this.finish(r, te, r.reason);
      lz.dead++;
    }
    for (const r of toLazy) lz.lazify(r);
    if (lz.aborts.length) {
      for (const r of lz.aborts) {
        if (!r.lazy) continue;
        lz.materialize(r, te);
        this.finish(r, te, 'abort');
        lz.dead++;
      }
      lz.aborts.length = 0;
    }
    this.pending -= computed;
    this.st.generationTokens += sampled;
    lz.compact(this.running);
    this.cur = false;
    this.emitStep(step, te, this.curBatch, this.curPrefill, this.curDecode, this.curBottleneck, 1, 0, this.curSwap);
  }

  // ---- closed-form decode stretches ----

  /** The step just formed is pure decode of every running request, with nothing that could change. */
  private stretchable(): boolean {
    if (!this.config.closedForm || this.moe) return false;
    if (this.curPrefill > 0 || this.curPreempted > 0 || this.curSwap > 0) return false;
    if (this.curFast ? this.lz.prefilling.length > 0 : this.curBatch !== this.running.length) return false;
    const head = this.waiting.peek();
    return !head || head.req.arrival <= this.curStart;
  }

  /**
   * The lazy form of a stretch: q ≥ 2 fast decode steps ending by t, before any decoder
   * finishes, whose blocks fit. O(q) scalar work (one cost call per step, as step by step)
   * and nothing per request.
   */
  private stretchLazy(t: number): boolean {
    const lz = this.lz;
    const finishAt = lz.nextFinishAt();
    const D = lz.D;
    if (finishAt === undefined || D === 0) return false;
    const plan = this.planStretch(finishAt - lz.ds - 1, t, D, lz.sumC, 0, (j) => lz.blocksAt(j));
    if (!plan) return false;
    const { q, last } = plan;
    this.kv.allocate(plan.alloc);
    lz.advance(q);
    this.endStretch(q, D, last, plan.bottleneck);
    return true;
  }

  /**
   * Runs q ≥ 2 decode steps at once: steps that end by t, before any request finishes, whose
   * block allocations all fit (so no preemption). Per-request work is O(batch) for the whole
   * stretch; step times come from the same cost calls, in the same order, as step by step.
   */
  private stretch(t: number): boolean {
    const run = this.running;
    const B = run.length;
    const bs = this.kv.blockSize;
    let minRem = Infinity;
    for (let i = 0; i < B; i++) {
      const r = run[i]!;
      const rem = r.target - r.generated;
      if (rem < minRem) minRem = rem;
    }
    const plan = this.planStretch(stepsWithinFreeBlocks(run, this.kv, minRem - 1), t, B, this.curCtx, this.curLoraTokens);
    if (!plan) return false;
    const { q, last } = plan;
    if (this.config.tokenEvents) {
      const { L, ends } = this;
      for (let j = 0; j < q; j++) {
        const te = ends[j]!;
        for (let i = 0; i < B; i++) L.onTokens(run[i]!.req.id, te, 1);
      }
    }
    let alloc = 0;
    for (let i = 0; i < B; i++) {
      const r = run[i]!;
      r.numComputed += q;
      r.numTokens += q;
      r.generated += q;
      const b = Math.ceil(r.numComputed / bs);
      alloc += b - r.blocks;
      r.blocks = b;
      r.sched = 0;
      r.lastToken = last;
    }
    this.kv.allocate(alloc);
    this.endStretch(q, B, last, plan.bottleneck);
    return true;
  }

  /**
   * The end times of up to qmax decode steps of B sequences, the first being the step in flight:
   * each priced by the same cost call as step by step (Σctx grows by B a step). Stops before a
   * step that ends after t or, with `blocksAt`, whose blocks no longer fit. Null when q < 2.
   */
  private planStretch(qmax: number, t: number, B: number, ctx0: number, loraTok: number, blocksAt?: (j: number) => number) {
    if (qmax < 2) return null;
    if (this.ends.length < qmax) this.ends = new Float64Array(Math.max(qmax, this.ends.length * 2));
    const ends = this.ends;
    ends[0] = this.curEnd;
    let q = qmax;
    let alloc = 0;
    let bottleneck = this.curBottleneck;
    for (let j = 1; j < qmax; j++) {
      const need = blocksAt ? blocksAt(j) : 0;
      if (alloc + need > this.kv.free) {
        q = j;
        break;
      }
      const c = this.price(0, 0, 0, B, ctx0 + j * B, loraTok, undefined);
      const e = ends[j - 1]! + c.seconds;
      if (e > t) {
        q = j;
        break;
      }
      alloc += need;
      ends[j] = e;
      bottleneck = c.bottleneck;
    }
    return q < 2 ? null : { q, alloc, last: ends[q - 1]!, bottleneck };
  }

  private endStretch(q: number, B: number, last: number, bottleneck: Bottleneck): void {
    const step = this.st.steps;
    this.st.steps += q;
    this.st.generationTokens += q * B;
    this.pending -= q * B;
    this.cur = false;
    this.lastEnd = last;
    this.emitStep(step, last, B, 0, B, bottleneck, q, 0, 0);
  }

  private emitStep(step: number, end: number, batchSize: number, prefillTokens: number, decodeTokens: number, bottleneck: Bottleneck, steps: number, preempted: number, swapSeconds: number): void {
    this.L.onStep?.({
      step,
      start: this.curStart,
      end,
      batchSize,
      prefillTokens,
      decodeTokens,
      kvUsage: this.kv.usage(),
      waiting: this.waiting.size,
      bottleneck,
      steps,
      preempted,
      swapSeconds,
    });
  }
}
