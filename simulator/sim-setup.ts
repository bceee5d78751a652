// Builds a replica's engine configuration from the model, GPU and serving flags: the roofline
// cost model, the KV blocks that fit, the MoE router of a MoE model, and LoRA slots.
import { createCostModel, type FullCostModel } from './cost-model.ts';
import { BLOCK_SIZE, GPU_MEMORY_UTILIZATION, MOE_SKEW, batchDefaults } from './engine-defaults.ts';
import type { EngineConfig } from './engine/index.ts';
import { getGpu, loadGpuFile } from './hardware.ts';
import { getModel, loadModelConfig, type ModelSpec } from './models.ts';

export interface SetupOptions {
  model: string;
  /** A Hugging Face config.json used instead of the preset (named `model`). */
  modelConfig?: string;
  gpu: string;
  /** A JSON file of user GPUs, registered before `gpu` is looked up. */
  gpuFile?: string;
  tp?: number;
  ep?: number;
  gpuMemoryUtilization?: number;
  blockSize?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  policy?: 'fcfs' | 'priority';
  seed?: number;
  /** MoE routing skew (0 uniform … 1 all by topic); MoE models only. */
  moeSkew?: number;
  lora?: { maxLoras: number; gpuLoras: number; rank: number };
  closedForm?: boolean;
  tokenEvents?: boolean;
}

export function engineSetup(o: SetupOptions): { engine: EngineConfig; cost: FullCostModel; model: ModelSpec } {
  const model = o.modelConfig ? loadModelConfig(o.modelConfig, o.model) : getModel(o.model);
  if (o.gpuFile) loadGpuFile(o.gpuFile);
  const gpu = getGpu(o.gpu);
  const cost = createCostModel({ gpu, model, tp: o.tp ?? 1, ep: o.ep });
  const blockSize = o.blockSize ?? BLOCK_SIZE;
  // vLLM's limits for this GPU where the flags name none: the same defaults as sim serve and sim predict.
  const limits = batchDefaults(gpu.name);
  const engine: EngineConfig = {
    cost,
    kvBlocks: cost.memory.kvBlocks(o.gpuMemoryUtilization ?? GPU_MEMORY_UTILIZATION, blockSize),
    blockSize,
    maxNumSeqs: o.maxNumSeqs ?? limits.maxNumSeqs,
    maxNumBatchedTokens: o.maxNumBatchedTokens ?? limits.maxNumBatchedTokens,
    policy: o.policy,
    closedForm: o.closedForm,
    tokenEvents: o.tokenEvents,
  };
  if (model.moe) {
    engine.moe = {
      layers: model.moe.moeLayers,
      experts: model.moe.experts,
      topK: model.moe.topK,
      epRanks: o.ep ?? 1,
      skew: o.moeSkew ?? MOE_SKEW,
      seed: o.seed ?? 0,
    };
  }
  if (o.lora) {
    engine.lora = { ...o.lora, adapterBytes: cost.memory.adapterBytesPerGpu(o.lora.rank) * cost.tp, pcieBytesPerSec: gpu.pcieGBps * 1e9 };
  }
  return { engine, cost, model };
}
