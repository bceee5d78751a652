// The state of one replica's engine and the small operations every phase uses (pricing a
// step, preempting, finishing, reporting a step); the phases live in schedule/complete/stretch.
import type { BatchShape, Bottleneck, EngineListener, EngineStats, FinishReason } from '../types.ts';
import { type EngineConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { BlockManager } from './kv.ts';
import { LazyDecoders } from './lazy.ts';
import { LoraManager } from './lora.ts';
import { type MoeRouter, createMoeRouter } from './moe-router.ts';
import { FifoQueue, OrderedQueue, type Seq, type WaitQueue, byPriority, victimIndex } from './seq.ts';

export class EngineCore {
  readonly config: ResolvedConfig;
  readonly kv: BlockManager;
  readonly lora: LoraManager | undefined;
  readonly moe: MoeRouter | undefined;
  readonly L: EngineListener;
  readonly waiting: WaitQueue;
  running: Seq[] = [];
  byId = new Map<string, Seq>();
  seqNo = 0;
  clock = 0;
  lastEnd = 0;
  pending = 0;
  readonly st: EngineStats = { running: 0, waiting: 0, kvUsage: 0, preemptions: 0, promptTokens: 0, generationTokens: 0, steps: 0 };
  // The step in flight.
  cur = false;
  curStart = 0;
  curEnd = 0;
  curBatch = 0;
  curPrefill = 0;
  curDecode = 0;
  curCtx = 0;
  curLoraTokens = 0;
  curPreempted = 0;
  curSwap = 0;
  curBottleneck: Bottleneck = 'overhead';
  curGates: number[][] | null = null;
  ends = new Float64Array(64);
  // Lazy decode: decoding requests advance together, one fast step at a time, without being
  // touched; the prefilling ones (few) are scheduled one by one. A step that could preempt or
  // that overflows the token budget falls back to the eager pass over every request.
  readonly lazyOn: boolean;
  readonly lz: LazyDecoders;
  curFast = false;
  readonly shape: BatchShape = { prefillSeqs: 0, prefillTokens: 0, prefillAttnWork: 0, decodeSeqs: 0, decodeCtxSum: 0 };

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

  /** Running requests (the list may still hold some finished while decoders are lazy). */
  runningCount(): number {
    return this.running.length - this.lz.dead;
  }

  /** When the next step would start: right after the last one while busy, else at the first arrival. */
  nextStart(): number | undefined {
    if (this.runningCount() > 0) return this.lastEnd;
    const head = this.waiting.peek();
    return head ? Math.max(this.lastEnd, head.req.arrival) : undefined;
  }

  victimIndex(): number {
    return victimIndex(this.running, this.config.policy, this.config.order);
  }

  preempt(v: Seq, vi: number, t: number): void {
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

  /** Prices a step's shape with the cost model (one reused shape object, no allocation). */
  price(pS: number, pT: number, pW: number, dS: number, dC: number, loraTok: number, moe: BatchShape['moe']) {
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

  /** Frees a request's blocks and adapter, and reports it with its FinishInfo. */
  finish(s: Seq, t: number, reason: FinishReason): void {
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
      ...(s.adapterResident !== undefined ? { adapterResident: s.adapterResident } : {}),
    });
  }

  emitStep(step: number, end: number, batchSize: number, prefillTokens: number, decodeTokens: number, bottleneck: Bottleneck, steps: number, preempted: number, swapSeconds: number): void {
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
