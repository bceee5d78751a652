// Prefill duration of a seed task (model, tokens, TP degree) on H100. LOCAL STAND-IN: a small
// roofline used until simulator/cost-model.ts lands; only `prefillSeconds` below is the seam.
import { usageError, choiceList } from '../../core/errors.ts';

/** The seed's model names and the config values the roofline needs (simulation.md §6). */
export interface SeedModel {
  name: string;
  hfId: string;
  layers: number;
  hidden: number;
  qHeads: number;
  kvHeads: number;
  headDim: number;
  /** Parameters read per token (active), and stored (total). */
  activeParams: number;
  totalParams: number;
}

export const SEED_MODELS: readonly SeedModel[] = [
  { name: 'Llama3-8B', hfId: 'meta-llama/Meta-Llama-3-8B', layers: 32, hidden: 4096, qHeads: 32, kvHeads: 8, headDim: 128, activeParams: 8.03e9, totalParams: 8.03e9 },
  { name: 'Llama3-70B', hfId: 'meta-llama/Meta-Llama-3-70B', layers: 80, hidden: 8192, qHeads: 64, kvHeads: 8, headDim: 128, activeParams: 70.6e9, totalParams: 70.6e9 },
  { name: 'Qwen3', hfId: 'Qwen/Qwen3-32B', layers: 64, hidden: 5120, qHeads: 64, kvHeads: 8, headDim: 128, activeParams: 32.8e9, totalParams: 32.8e9 },
  { name: 'DeepSeek-R1-32B', hfId: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B', layers: 64, hidden: 5120, qHeads: 40, kvHeads: 8, headDim: 128, activeParams: 32.76e9, totalParams: 32.76e9 },
  { name: 'DeepSeek-R1-70B', hfId: 'deepseek-ai/DeepSeek-R1-Distill-Llama-70B', layers: 80, hidden: 8192, qHeads: 64, kvHeads: 8, headDim: 128, activeParams: 70.6e9, totalParams: 70.6e9 },
  { name: 'Mixtral-8x7B', hfId: 'mistralai/Mixtral-8x7B-v0.1', layers: 32, hidden: 4096, qHeads: 32, kvHeads: 8, headDim: 128, activeParams: 12.9e9, totalParams: 46.7e9 },
];

const key = (s: string) => s.toLowerCase().replace(/[\s_.:/-]+/g, '');
const ALIASES = new Map<string, SeedModel>();
for (const m of SEED_MODELS) {
  ALIASES.set(key(m.name), m);
  ALIASES.set(key(m.hfId), m);
  ALIASES.set(key(m.hfId.split('/')[1]!), m);
}
ALIASES.set(key('Qwen3-32B'), SEED_MODELS[2]!);
ALIASES.set(key('DeepSeek-R1-Distill-32B'), SEED_MODELS[3]!);
ALIASES.set(key('DeepSeek-R1-Distill-70B'), SEED_MODELS[4]!);

/** Resolves a seed model name ('Qwen3', 'DeepSeek-R1 32B', an HF id) or says which names exist. */
export function resolveSeedModel(name: string): SeedModel {
  const m = ALIASES.get(key(name));
  if (!m) throw usageError(`model: ${choiceList(name, SEED_MODELS.map((x) => x.name))}`);
  return m;
}

/** H100 SXM figures (simulation.md §3) and efficiencies of the stand-in roofline. */
const H100 = { flops: 989.4e12, hbm: 3.35e12, hbmBytes: 80e9, busBw: 365e9, alpha: 10e-6 };
const ETA_FLOPS = 0.6;
const ETA_MEM = 0.8;
const STEP_OVERHEAD_S = 0.5e-3;

/** Seconds to prefill `tokens` prompt tokens of `model` on `tp` H100s (one forward pass). */
export function localPrefillSeconds(modelName: string, tokens: number, tp: number): number {
  const m = resolveSeedModel(modelName);
  checkTp(m, tp);
  const flops = 2 * m.activeParams * tokens + 2 * m.layers * m.qHeads * m.headDim * tokens * tokens;
  const compute = flops / (tp * H100.flops * ETA_FLOPS);
  const memory = (m.totalParams * 2) / tp / (H100.hbm * ETA_MEM);
  const comm = tp > 1 ? 2 * m.layers * (H100.alpha + ((2 * (tp - 1)) / tp) * tokens * m.hidden * 2 / H100.busBw) : 0;
  return Math.max(compute, memory) + comm + STEP_OVERHEAD_S;
}

export function checkTp(m: SeedModel, tp: number): void {
  const valid = [1, 2, 4, 8].filter((p) => m.qHeads % p === 0 && m.kvHeads % p === 0);
  if (!valid.includes(tp)) throw usageError(`tp: ${tp} does not divide the heads of ${m.name} (valid: ${valid.join(', ')})`);
  const perGpu = (m.totalParams * 2) / tp;
  if (perGpu > H100.hbmBytes) {
    throw usageError(`tp: ${m.name} needs ${(perGpu / 1e9).toFixed(1)} GB of weights per GPU at TP=${tp}, more than an H100's 80 GB (use TP ≥ ${valid.find((p) => (m.totalParams * 2) / p <= H100.hbmBytes) ?? 8})`);
  }
}

export type PrefillTimer = (model: string, tokens: number, tp: number) => number;

/** The timer the scheduling simulator uses. */
export const prefillSeconds: PrefillTimer = localPrefillSeconds;
