// Models from Hugging Face config.json (Llama, Qwen2, Qwen3, Qwen3-MoE, Mixtral, OPT): the
// shapes the cost model needs and what follows from them (parameters, FLOPs, KV bytes, TP).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, ExitCode, choiceList, inputError } from '../core/errors.ts';

export const ARCHS = ['llama', 'qwen2', 'qwen3', 'qwen3_moe', 'mixtral', 'opt'] as const;
export type Arch = (typeof ARCHS)[number];
export const isArch = (s: string): s is Arch => (ARCHS as readonly string[]).includes(s);

export interface MoeSpec {
  experts: number;
  topK: number;
  /** FFN size of one expert. */
  expertIntermediate: number;
  /** Layers whose FFN is the expert layer (the rest are dense). */
  moeLayers: number;
}

export interface ModelSpec {
  name: string;
  hfId?: string;
  arch: Arch;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Dense FFN size (unused by the MoE layers of a MoE model). */
  intermediate: number;
  vocab: number;
  maxContext: number;
  tieEmbeddings: boolean;
  /** Bias on q/k/v (Qwen2) or on every linear layer (OPT). */
  qkvBias: boolean;
  /** Gated FFN with three matrices (SwiGLU) or two (OPT's fc1/fc2). */
  gatedFfn: boolean;
  moe?: MoeSpec;
  /** OPT: learned positions ((max_pos + 2)·h) and the word_embed_proj_dim projections. */
  extraEmbeddingParams: number;
  /** Per-layer extra parameters (norms, qk-norm, biases). */
  extraLayerParams: number;
}

export interface ModelDerived {
  totalParams: number;
  activeParams: number;
  /** Parameters of one MoE layer's experts (all of them); 0 for dense models. */
  expertParamsPerLayer: number;
  /** Matrix FLOPs per token, excluding attention over the context (2·(active non-embedding + LM head)). */
  flopsPerToken: number;
  /** Attention FLOPs per token per token of context: 4·L·n_q·d. */
  attnFlopsPerCtxToken: number;
  kvBytesPerToken: number;
  weightBytes: number;
  validTp: number[];
  maxContext: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const MODEL_CONFIG_DIR = path.join(here, 'model-configs');

interface Preset {
  name: string;
  file: string;
  aliases: readonly string[];
}

/** Presets: simulation.md §6 plus Llama-2-7B and OPT-125M; aliases include the seed simulator's names. */
export const PRESETS: readonly Preset[] = [
  { name: 'Llama-3-8B', file: 'Meta-Llama-3-8B.json', aliases: ['meta-llama/Meta-Llama-3-8B', 'Meta-Llama-3-8B', 'Llama3-8B', 'llama-3-8b-instruct', 'meta-llama/Meta-Llama-3-8B-Instruct', 'Llama-3.1-8B'] },
  { name: 'Llama-3-70B', file: 'Meta-Llama-3-70B.json', aliases: ['meta-llama/Meta-Llama-3-70B', 'Meta-Llama-3-70B', 'Llama3-70B', 'meta-llama/Meta-Llama-3-70B-Instruct', 'Llama-3.1-70B'] },
  { name: 'Qwen3-32B', file: 'Qwen3-32B.json', aliases: ['Qwen/Qwen3-32B', 'Qwen3', 'qwen3-32b'] },
  { name: 'Qwen3-30B-A3B', file: 'Qwen3-30B-A3B.json', aliases: ['Qwen/Qwen3-30B-A3B', 'Qwen3-MoE', 'Qwen3-30B', 'qwen3-30b-a3b'] },
  { name: 'DeepSeek-R1-Distill-Qwen-32B', file: 'DeepSeek-R1-Distill-Qwen-32B.json', aliases: ['deepseek-ai/DeepSeek-R1-Distill-Qwen-32B', 'DeepSeek-R1-32B', 'R1-Distill-Qwen-32B'] },
  { name: 'DeepSeek-R1-Distill-Llama-70B', file: 'DeepSeek-R1-Distill-Llama-70B.json', aliases: ['deepseek-ai/DeepSeek-R1-Distill-Llama-70B', 'DeepSeek-R1-70B', 'R1-Distill-Llama-70B'] },
  { name: 'Mixtral-8x7B', file: 'Mixtral-8x7B-v0.1.json', aliases: ['mistralai/Mixtral-8x7B-v0.1', 'Mixtral-8x7B-v0.1', 'mistralai/Mixtral-8x7B-Instruct-v0.1', 'Mixtral', 'mixtral-8x7b-instruct'] },
  { name: 'Llama-2-7B', file: 'Llama-2-7b-hf.json', aliases: ['meta-llama/Llama-2-7b-hf', 'Llama-2-7b-hf', 'Llama2-7B', 'meta-llama/Llama-2-7b-chat-hf'] },
  { name: 'OPT-125M', file: 'opt-125m.json', aliases: ['facebook/opt-125m', 'opt-125m'] },
];

export function modelNames(): string[] {
  return PRESETS.map((p) => p.name);
}

const norm = (s: string) => s.trim().toLowerCase().replace(/[\s_]+/g, '-');
const cache = new Map<string, ModelSpec>();

/** A preset by name, alias or Hugging Face id (case-insensitive); the error lists the presets. */
export function getModel(nameOrAlias: string): ModelSpec {
  const key = norm(nameOrAlias);
  const preset = PRESETS.find((p) => norm(p.name) === key || p.aliases.some((a) => norm(a) === key));
  if (!preset) {
    throw new CliError(`unknown model: ${choiceList(nameOrAlias, modelNames())}`, ExitCode.usage, [
      'or point --model-config at a Hugging Face config.json',
    ]);
  }
  let spec = cache.get(preset.name);
  if (!spec) {
    spec = loadModelConfig(path.join(MODEL_CONFIG_DIR, preset.file), preset.name);
    cache.set(preset.name, spec);
  }
  return spec;
}

/** Reads a Hugging Face config.json; errors name the file and the field. */
export function loadModelConfig(file: string, name?: string): ModelSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(file, undefined, `cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw inputError(file, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  return parseModelConfig(data, file, name);
}

/** Parses a config.json object; `where` (the file) prefixes every error. */
export function parseModelConfig(data: unknown, where: string, name?: string): ModelSpec {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw inputError(where, undefined, 'expected a JSON object (a Hugging Face config.json)');
  const c = data as Record<string, unknown>;
  const modelType = c.model_type;
  if (typeof modelType !== 'string') throw inputError(where, 'model_type', `missing; supported: ${ARCHS.join(', ')}`);
  if (!isArch(modelType)) throw inputError(where, 'model_type', choiceList(modelType, ARCHS));
  const int = (field: string, fallback?: number): number => {
    const v = c[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw inputError(where, field, `missing (needed for ${modelType})`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw inputError(where, field, `${JSON.stringify(v)} is not a positive integer`);
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw inputError(where, field, `${JSON.stringify(v)} is not true or false`);
    return v;
  };
  const hfId = typeof c._name_or_path === 'string' && c._name_or_path ? c._name_or_path : undefined;
  const layers = int('num_hidden_layers');
  const hidden = int('hidden_size');
  const heads = int('num_attention_heads');
  if (modelType === 'opt') {
    const ffn = int('ffn_dim');
    const proj = int('word_embed_proj_dim', hidden);
    const maxPos = int('max_position_embeddings');
    const vocab = int('vocab_size');
    if (hidden % heads !== 0) throw inputError(where, 'hidden_size', `${hidden} is not divisible by num_attention_heads ${heads}`);
    // Positions are offset by 2 in OPT; the in/out projections exist only when proj ≠ h.
    const projParams = proj !== hidden ? 2 * proj * hidden : 0;
    // Learned positions, the optional projections, and the final LayerNorm (weight and bias).
    const embedExtra = (maxPos + 2) * hidden + projParams + 2 * hidden;
    return {
      name: name ?? hfId ?? path.basename(where),
      hfId,
      arch: 'opt',
      layers,
      hidden,
      heads,
      kvHeads: heads,
      headDim: hidden / heads,
      intermediate: ffn,
      vocab,
      maxContext: maxPos,
      tieEmbeddings: bool('tie_word_embeddings', true),
      qkvBias: true,
      gatedFfn: false,
      // q,k,v,o biases (4h), fc1/fc2 biases (I + h), two LayerNorms (4h).
      extraLayerParams: 4 * hidden + ffn + hidden + 4 * hidden,
      extraEmbeddingParams: embedExtra,
    };
  }
  const kvHeads = int('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) throw inputError(where, 'num_key_value_heads', `${kvHeads} does not divide num_attention_heads ${heads}`);
  let headDim = int('head_dim', 0) || 0;
  if (!headDim) {
    if (hidden % heads !== 0) throw inputError(where, 'head_dim', `missing and hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`);
    headDim = hidden / heads;
  }
  const vocab = int('vocab_size');
  const maxContext = int('max_position_embeddings');
  const qkvBias = modelType === 'qwen2' ? true : bool('attention_bias', false);
  const qkNorm = modelType === 'qwen3' || modelType === 'qwen3_moe';
  let moe: MoeSpec | undefined;
  let intermediate: number;
  if (modelType === 'mixtral') {
    intermediate = int('intermediate_size');
    moe = { experts: int('num_local_experts'), topK: int('num_experts_per_tok'), expertIntermediate: intermediate, moeLayers: layers };
  } else if (modelType === 'qwen3_moe') {
    intermediate = int('intermediate_size', 1);
    const step = int('decoder_sparse_step', 1);
    const mlpOnly = Array.isArray(c.mlp_only_layers) ? (c.mlp_only_layers as unknown[]).length : 0;
    let moeLayers = 0;
    for (let i = 0; i < layers; i++) if ((i + 1) % step === 0) moeLayers++;
    moeLayers = Math.max(0, moeLayers - mlpOnly);
    moe = { experts: int('num_experts'), topK: int('num_experts_per_tok'), expertIntermediate: int('moe_intermediate_size'), moeLayers };
  } else {
    intermediate = int('intermediate_size');
  }
  if (moe && moe.topK > moe.experts) throw inputError(where, 'num_experts_per_tok', `${moe.topK} exceeds the ${moe.experts} experts`);
  const qkvOut = (heads + 2 * kvHeads) * headDim;
  return {
    name: name ?? hfId ?? path.basename(where),
    hfId,
    arch: modelType,
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    intermediate,
    vocab,
    maxContext,
    tieEmbeddings: bool('tie_word_embeddings', false),
    qkvBias,
    gatedFfn: true,
    moe,
    // Two RMSNorms per layer, q/k norms of head_dim each (Qwen3), q/k/v bias (Qwen2).
    extraLayerParams: 2 * hidden + (qkNorm ? 2 * headDim : 0) + (qkvBias ? qkvOut : 0),
    // The final norm.
    extraEmbeddingParams: hidden,
  };
}

/** Attention projection parameters of one layer (q, k, v, o). */
export function attnParams(m: ModelSpec): number {
  return m.hidden * (m.heads + 2 * m.kvHeads) * m.headDim + m.heads * m.headDim * m.hidden;
}

/** Dense FFN parameters of one layer. */
export function denseFfnParams(m: ModelSpec): number {
  return (m.gatedFfn ? 3 : 2) * m.hidden * m.intermediate;
}

/** One expert's FFN parameters. */
export function expertParams(m: ModelSpec): number {
  return m.moe ? 3 * m.hidden * m.moe.expertIntermediate : 0;
}

/** Everything that follows from the config, for bf16 weights unless `weightBytesPerParam` says otherwise. */
export function derive(m: ModelSpec, weightBytesPerParam = 2, kvBytesPerElem = 2): ModelDerived {
  const moeLayers = m.moe?.moeLayers ?? 0;
  const denseLayers = m.layers - moeLayers;
  const router = m.moe ? m.hidden * m.moe.experts : 0;
  const perLayerCommon = attnParams(m) + m.extraLayerParams;
  const expertAll = m.moe ? m.moe.experts * expertParams(m) : 0;
  const expertActive = m.moe ? m.moe.topK * expertParams(m) : 0;
  const embed = m.vocab * m.hidden;
  const lmHead = m.tieEmbeddings ? 0 : embed;
  const layerTotal = m.layers * perLayerCommon + denseLayers * denseFfnParams(m) + moeLayers * (expertAll + router);
  const layerActive = m.layers * perLayerCommon + denseLayers * denseFfnParams(m) + moeLayers * (expertActive + router);
  const totalParams = layerTotal + embed + lmHead + m.extraEmbeddingParams;
  const activeParams = layerActive + embed + lmHead + m.extraEmbeddingParams;
  return {
    totalParams,
    activeParams,
    expertParamsPerLayer: expertAll,
    flopsPerToken: 2 * (layerActive + embed),
    attnFlopsPerCtxToken: 4 * m.layers * m.heads * m.headDim,
    kvBytesPerToken: 2 * m.layers * m.kvHeads * m.headDim * kvBytesPerElem,
    weightBytes: totalParams * weightBytesPerParam,
    validTp: validTpDegrees(m),
    maxContext: m.maxContext,
  };
}

/** TP degrees (1…64) that divide the query heads and either divide the KV heads or are a multiple of them (KV heads replicated). */
export function validTpDegrees(m: ModelSpec, max = 64): number[] {
  const out: number[] = [];
  for (let p = 1; p <= max; p++) {
    if (m.heads % p !== 0) continue;
    if (m.kvHeads % p !== 0 && p % m.kvHeads !== 0) continue;
    if (m.moe === undefined && m.intermediate % p !== 0) continue;
    out.push(p);
  }
  return out;
}

/** Throws a usage error listing the valid degrees when `tp` does not fit the model's heads. */
export function checkTp(m: ModelSpec, tp: number): void {
  if (!Number.isInteger(tp) || tp < 1) throw new CliError(`--tp: ${tp} is not a positive whole number`, ExitCode.usage);
  const valid = validTpDegrees(m);
  if (!valid.includes(tp)) {
    throw new CliError(
      `--tp ${tp} does not divide ${m.name}'s ${m.heads} attention heads / ${m.kvHeads} KV heads: valid TP degrees are ${valid.join(', ')}`,
      ExitCode.usage,
    );
  }
}

/** KV heads each GPU holds under TP p (replicated when p > n_kv). */
export function kvHeadsPerGpu(m: ModelSpec, tp: number): number {
  return Math.max(1, m.kvHeads / tp);
}
