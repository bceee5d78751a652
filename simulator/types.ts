// Interfaces shared by the serving model's parts: what the cost model is asked (a batch's
// shape), what it answers (a step's time and breakdown), and the online engine the
// simulated server drives on the real clock. Times are seconds of simulated time.

/** The shape of one engine step, in aggregates so a step costs O(1) to price. */
export interface BatchShape {
  /** Sequences with a prefill chunk in this step. */
  prefillSeqs: number;
  /** Prefill tokens computed in this step (sum of chunk sizes). */
  prefillTokens: number;
  /** Σ over prefill chunks of s·(c + s/2): attention work of a chunk of s tokens after c cached. */
  prefillAttnWork: number;
  /** Sequences decoding one token in this step. */
  decodeSeqs: number;
  /** Σ context length (cached tokens) over decoding sequences. */
  decodeCtxSum: number;
  /** LoRA: distinct adapters in the batch, tokens that go through an adapter, and the rank. */
  lora?: { adapters: number; tokens: number; rank: number };
  /** MoE routing of this step when known (else the cost model assumes uniform routing). */
  moe?: {
    /** Mean over MoE layers of the number of distinct experts that got ≥1 token. */
    distinctExperts: number;
    /** Mean over MoE layers of the tokens·top_k that the most loaded EP rank (or expert) receives. */
    maxRankTokens: number;
    /** Mean over MoE layers of the tokens·top_k received by the most loaded single expert. */
    maxExpertTokens: number;
    /** Under EP: mean over MoE layers of the most experts hit on one rank (the weights the slowest rank reads). */
    maxRankExperts?: number;
  };
}

export type Bottleneck = 'compute' | 'memory' | 'tp_comm' | 'ep_comm' | 'overhead';

export interface StepCost {
  seconds: number;
  /** Seconds by component (e.g. gemm, attn_prefill, attn_decode, moe, lm_head, tp_allreduce, ep_all2all, lora, overhead). */
  breakdown: Record<string, number>;
  bottleneck: Bottleneck;
}

export interface CostModel {
  stepTime(shape: BatchShape): StepCost;
}

/** A request as the engine sees it. */
export interface EngineRequest {
  id: string;
  /** Arrival, simulated seconds. */
  arrival: number;
  promptTokens: number;
  /** Upper bound on output tokens (max_tokens; clamped to the context by the caller). */
  maxTokens: number;
  /** Output length the model would produce before EOS; ignored with ignoreEos. Defaults to maxTokens. */
  naturalTokens?: number;
  ignoreEos?: boolean;
  minTokens?: number;
  adapter?: string | null;
  priority?: number;
  /** Prompt text (or a content key): MoE routing depends on it. */
  content?: string;
}

export type FinishReason = 'stop' | 'length' | 'abort';

/** Callbacks of the online engine; times are simulated seconds, exact per token. */
export interface EngineListener {
  onScheduled?(id: string, t: number): void;
  /** `n` tokens of request `id` became available at time `t` (n ≥ 1). */
  onTokens(id: string, t: number, n: number): void;
  /** `info` (added by the token-level engine) summarizes the request, so a driver need not count tokens. */
  onFinish(id: string, t: number, reason: FinishReason, info?: FinishInfo): void;
  onPreempt?(id: string, t: number): void;
  /** Per-step MoE gate counts: counts[layer][expert], and the step's total tokens. */
  onGates?(step: number, t: number, counts: number[][], stepTokens: number): void;
  /** One call per step, or per closed-form decode stretch with `steps` > 1 (sizes are per iteration). */
  onStep?(info: { step: number; start: number; end: number; batchSize: number; prefillTokens: number; decodeTokens: number; kvUsage: number; waiting: number; bottleneck: Bottleneck; steps?: number; preempted?: number; swapSeconds?: number }): void;
}

/** What the engine knows of a request when it finishes (times in simulated seconds; NaN when none). */
export interface FinishInfo {
  outputTokens: number;
  firstToken: number;
  lastToken: number;
  /** Start of the step that first scheduled it. */
  scheduled: number;
  preemptions: number;
  promptTokens: number;
  /** Why it was aborted by the engine itself (e.g. does not fit in the KV cache). */
  error?: string;
  /** LoRA: its adapter was resident in HBM when it was first scheduled (false: it was swapped in). */
  adapterResident?: boolean;
}

export interface EngineStats {
  running: number;
  waiting: number;
  kvUsage: number;
  preemptions: number;
  promptTokens: number;
  generationTokens: number;
  steps: number;
}

/**
 * The engine of one replica, advanced by its driver: the offline runner jumps from event to
 * event; the simulated server calls advanceTo(now) on the real clock.
 */
export interface OnlineEngine {
  add(req: EngineRequest): void;
  abort(id: string): void;
  /** Simulated time of the next step end (or other internal event), undefined when idle. */
  nextEventTime(): number | undefined;
  /**
   * Completes every step that ends at or before t, emitting listener events with exact times
   * ≤ t. A step in flight at t stays in flight; a request added at t joins the next step.
   */
  advanceTo(t: number): void;
  stats(): EngineStats;
}
