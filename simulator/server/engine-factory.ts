// Builds each replica's engine for the simulated server from the serving model: the model and
// GPU tables, the roofline cost model (TP/EP), KV blocks at vLLM's 0.9 memory utilization,
// LoRA slots with PCIe swap cost, and the content-dependent MoE router.
import { createCostModel } from '../cost-model.ts';
import { createEngine, type EngineConfig } from '../engine/index.ts';
import { getGpu } from '../hardware.ts';
import { getModel, type ModelSpec } from '../models.ts';
import { BLOCK_SIZE, GPU_MEMORY_UTILIZATION } from '../engine-defaults.ts';
import type { ServerConfig } from './config.ts';
import type { EngineFactory } from './driver.ts';
import { type GpuShare, replicaGpuIds } from './gpu-share.ts';

export { GPU_MEMORY_UTILIZATION };

/** What `sim predict` sets beyond a server config: a model from config.json, vLLM's memory fraction, engine switches. */
export interface EngineOverrides {
  model?: ModelSpec;
  gpuMemoryUtilization?: number;
  tokenEvents?: boolean;
}

/** The engine configuration of one replica of a server config (the simulated server's, and `sim predict`'s). */
export function engineConfig(c: ServerConfig, replica: number, over: EngineOverrides = {}): EngineConfig {
  const model = over.model ?? getModel(c.model);
  const gpu = getGpu(c.gpu);
  const cost = createCostModel({ gpu, model, tp: c.tp, ep: c.ep });
  const cfg: EngineConfig = {
    cost,
    kvBlocks: cost.memory.kvBlocks(over.gpuMemoryUtilization ?? GPU_MEMORY_UTILIZATION, BLOCK_SIZE),
    maxNumSeqs: c.maxNumSeqs,
    maxNumBatchedTokens: c.maxNumBatchedTokens,
    ...(over.tokenEvents !== undefined ? { tokenEvents: over.tokenEvents } : {}),
  };
  if (c.lora || c.runtimeLoraUpdating) {
    const l = c.lora;
    const gpuLoras = Math.max(1, l?.gpuLoras ?? 1);
    cfg.lora = {
      maxLoras: Math.max(1, Math.min(l?.maxLoras ?? 1, gpuLoras)),
      gpuLoras,
      adapterBytes: cost.memory.adapterBytesPerGpu(l?.rank ?? 16) * c.tp,
      pcieBytesPerSec: gpu.pcieGBps * 1e9,
      rank: l?.rank ?? 16,
      preloaded: Array.from({ length: Math.min(l?.gpuLoras ?? 0, l?.totalLoras ?? 0) }, (_, i) => `lora-${i}`),
    };
  }
  if (model.moe) {
    cfg.moe = { layers: model.moe.moeLayers, experts: model.moe.experts, topK: model.moe.topK, epRanks: c.ep, seed: c.seed * 1000 + replica };
  }
  return cfg;
}

/**
 * The default engine factory: one serving-model engine per replica. With `share` and the
 * config's `gpuIds`, each replica's steps contend with the other servers' on the same device IDs
 * (simulator/server/gpu-share.ts: time-sliced).
 */
export function servingModelFactory(c: ServerConfig, share?: GpuShare): EngineFactory {
  const configs = new Map<number, EngineConfig>();
  return (replica, listener) => {
    let cfg = configs.get(replica);
    if (!cfg) configs.set(replica, (cfg = engineConfig(c, replica)));
    if (!share || !c.gpuIds) return createEngine(cfg, listener);
    const tenant = share.register(`${c.name}/${replica}`, replicaGpuIds(c.gpuIds, replica, c.tp * c.ep));
    const engine = createEngine({ ...cfg, cost: share.costModel(cfg.cost, tenant) }, listener);
    tenant.busy = () => engine.outstanding() > 0;
    return engine;
  };
}
