// The token-level engine's configuration: what one replica is (KV blocks, limits, scheduling
// policy, LoRA and MoE) with vLLM's defaults, and the checks that name a bad value.
import type { CostModel, EngineRequest } from '../types.ts';
import type { LoraConfig } from './lora.ts';
import type { MoeRouter, MoeRouterConfig } from './moe-router.ts';

export const POLICIES = ['fcfs', 'priority'] as const;
export type Policy = (typeof POLICIES)[number];
export const isPolicy = (s: string): s is Policy => (POLICIES as readonly string[]).includes(s);

export interface EngineConfig {
  /** Prices a step from its batch shape (injected: the roofline model, or a simple one in tests). */
  cost: CostModel;
  /** KV-cache blocks of this replica (the cost model's memory.kvBlocks(util, blockSize)). */
  kvBlocks: number;
  /** Tokens per KV block. Default 16. */
  blockSize?: number;
  /** Fraction of blocks admission keeps free. Default 0.01. */
  watermark?: number;
  /** vLLM max_num_seqs. Default 256. */
  maxNumSeqs?: number;
  /** vLLM max_num_batched_tokens (the token budget of a step). Default 8192. */
  maxNumBatchedTokens?: number;
  /** Split prompts over steps to fit the budget. Default true. */
  chunkedPrefill?: boolean;
  /** Waiting-queue order and preemption victim choice. Default 'fcfs'. */
  policy?: Policy;
  /** A custom waiting-queue order (overrides the policy's order; ties → arrival order). */
  order?: (a: EngineRequest, b: EngineRequest) => number;
  lora?: LoraConfig;
  /** MoE routing: a router, or the config to build one. Off for dense models. */
  moe?: MoeRouter | MoeRouterConfig;
  /** Advance stable decode stretches in one go. Default true (off when MoE routing is on). */
  closedForm?: boolean;
  /** Call listener.onTokens for every token. Default true; drivers that only need FinishInfo turn it off. */
  tokenEvents?: boolean;
  /**
   * Track decoding requests in aggregate (O(1) per step for them) when nothing needs per-token
   * work: tokenEvents off, no MoE, no LoRA. Same results as eager tracking. Default true.
   */
  lazyDecode?: boolean;
}

export interface ResolvedConfig {
  cost: CostModel;
  kvBlocks: number;
  blockSize: number;
  watermark: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  chunkedPrefill: boolean;
  policy: Policy;
  order?: (a: EngineRequest, b: EngineRequest) => number;
  lora?: LoraConfig;
  closedForm: boolean;
  tokenEvents: boolean;
  lazyDecode: boolean;
}

export function resolveConfig(c: EngineConfig): ResolvedConfig {
  const r: ResolvedConfig = {
    cost: c.cost,
    kvBlocks: c.kvBlocks,
    blockSize: c.blockSize ?? 16,
    watermark: c.watermark ?? 0.01,
    maxNumSeqs: c.maxNumSeqs ?? 256,
    maxNumBatchedTokens: c.maxNumBatchedTokens ?? 8192,
    chunkedPrefill: c.chunkedPrefill ?? true,
    policy: c.policy ?? 'fcfs',
    order: c.order,
    lora: c.lora,
    closedForm: c.closedForm ?? true,
    tokenEvents: c.tokenEvents ?? true,
    lazyDecode: c.lazyDecode ?? true,
  };
  if (!r.cost || typeof r.cost.stepTime !== 'function') throw new Error('engine: cost must be a CostModel (an object with stepTime(shape))');
  if (!Number.isInteger(r.maxNumSeqs) || r.maxNumSeqs < 1) throw new Error(`maxNumSeqs: ${r.maxNumSeqs} must be a whole number ≥ 1`);
  if (!Number.isInteger(r.maxNumBatchedTokens) || r.maxNumBatchedTokens < 1) {
    throw new Error(`maxNumBatchedTokens: ${r.maxNumBatchedTokens} must be a whole number ≥ 1`);
  }
  if (!isPolicy(r.policy)) throw new Error(`policy: '${r.policy}' is not one of ${POLICIES.join(', ')}`);
  return r;
}
