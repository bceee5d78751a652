// The token-level engine of one replica, vLLM-V1-like: a token budget per step, chunked
// prefill (running first, then waiting), paged KV with recompute preemption, LoRA slots, MoE
// routing, and closed-form decode stretches. Event-driven: its driver calls advanceTo(t).
// Phases: schedule.ts forms a step, complete.ts ends it, stretch.ts runs decode stretches.
import type { EngineListener, EngineRequest, EngineStats, FinishInfo, FinishReason, OnlineEngine } from '../types.ts';
import { completeEager, completeFast } from './complete.ts';
import type { EngineConfig, ResolvedConfig } from './config.ts';
import { EngineCore } from './core.ts';
import type { BlockManager } from './kv.ts';
import type { LoraManager } from './lora.ts';
import type { MoeRouter } from './moe-router.ts';
import { formStep } from './schedule.ts';
import { Seq } from './seq.ts';
import { stretch, stretchLazy, stretchable } from './stretch.ts';

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

class TokenEngine extends EngineCore implements Engine {
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
      if (start === undefined || !formStep(this, start)) return undefined;
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
        if (!formStep(this, start)) return;
        if (this.curEnd <= t && stretchable(this) && (this.curFast ? stretchLazy(this, t) : stretch(this, t))) continue;
      }
      if (this.curEnd > t) return;
      this.completeStep();
    }
  }

  private completeStep(): void {
    if (this.curFast) completeFast(this);
    else {
      completeEager(this);
      if (this.lazyOn) this.lz.lazifyAll(this.running);
    }
  }
}
