// Prefill duration of a seed task (model, tokens, TP degree) on H100, from the serving model's
// cost model; the seed's model names (Llama3-8B, Qwen3, DeepSeek-R1-32B, …) are preset aliases.
import { createCostModel, type FullCostModel } from '../cost-model.ts';
import { getGpu } from '../hardware.ts';
import { getModel } from '../models.ts';

export type PrefillTimer = (model: string, tokens: number, tp: number) => number;

const models = new Map<string, FullCostModel>();

function costModel(model: string, tp: number): FullCostModel {
  const key = `${model}\u0000${tp}`;
  let cm = models.get(key);
  if (!cm) {
    cm = createCostModel({ gpu: getGpu('H100'), model: getModel(model), tp });
    // Throws, naming the shortfall and a TP that fits, when the weights do not fit in HBM.
    cm.memory.kvBlocks(0.9);
    models.set(key, cm);
  }
  return cm;
}

/** Seconds to prefill `tokens` prompt tokens of `model` on a TP group of `tp` H100s (one forward pass). */
export const prefillSeconds: PrefillTimer = (model, tokens, tp) => costModel(model, tp).prefillSeconds(tokens);
