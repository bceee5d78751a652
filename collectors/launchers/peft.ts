// Dummy LoRA adapters as PEFT folders (adapter_config.json + adapter_model.safetensors) with the
// base model's shapes for the target modules, so a real vLLM serves N adapters without
// downloading any: lora_A [r, in] and lora_B [out, r] per layer and module, zeros (B = 0 is
// PEFT's own initialisation, so each adapter leaves the base model's output unchanged).
import fs from 'node:fs';
import path from 'node:path';
import type { ModelSpec } from '../../simulator/models.ts';

export interface PeftOptions {
  rank: number;
  alpha?: number;
  /** Attention projections to adapt (default q_proj, v_proj: PEFT's default for LLaMA and OPT). */
  targetModules?: readonly string[];
  /** base_model_name_or_path in the config. */
  baseModel: string;
}

/** [in, out] of a target module of this model. */
export function moduleShape(m: ModelSpec, module: string): [number, number] {
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  switch (module) {
    case 'q_proj':
      return [m.hidden, q];
    case 'k_proj':
    case 'v_proj':
      return [m.hidden, kv];
    case 'o_proj':
    case 'out_proj':
      return [q, m.hidden];
    default:
      throw new Error(`target module ${module}: not an attention projection (q_proj, k_proj, v_proj, o_proj/out_proj)`);
  }
}

/** The PEFT weight name prefix of layer i (OPT keeps its layers under model.decoder). */
function layerPrefix(m: ModelSpec, i: number): string {
  return m.arch === 'opt' ? `base_model.model.model.decoder.layers.${i}.self_attn` : `base_model.model.model.layers.${i}.self_attn`;
}

/** The tensors of one adapter: name → shape (F16). */
export function adapterTensors(m: ModelSpec, o: PeftOptions): [string, number[]][] {
  const out: [string, number[]][] = [];
  for (let i = 0; i < m.layers; i++) {
    for (const mod of o.targetModules ?? ['q_proj', 'v_proj']) {
      const [inDim, outDim] = moduleShape(m, mod);
      out.push([`${layerPrefix(m, i)}.${mod}.lora_A.weight`, [o.rank, inDim]]);
      out.push([`${layerPrefix(m, i)}.${mod}.lora_B.weight`, [outDim, o.rank]]);
    }
  }
  return out;
}

/** A safetensors file of zero F16 tensors: 8-byte little-endian header length, JSON header, data. */
export function writeZeroSafetensors(file: string, tensors: [string, number[]][]): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the data starts 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    fs.writeSync(fd, json);
    const zeros = Buffer.alloc(Math.min(offset, 1 << 20));
    for (let left = offset; left > 0; left -= zeros.length) fs.writeSync(fd, zeros, 0, Math.min(left, zeros.length));
  } finally {
    fs.closeSync(fd);
  }
}

export function adapterConfig(o: PeftOptions): Record<string, unknown> {
  return {
    base_model_name_or_path: o.baseModel,
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    r: o.rank,
    lora_alpha: o.alpha ?? o.rank * 2,
    lora_dropout: 0,
    target_modules: [...(o.targetModules ?? ['q_proj', 'v_proj'])],
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    modules_to_save: null,
  };
}

/**
 * Writes adapters lora-0 … lora-(n−1) under dir (an existing adapter with the same config is kept)
 * and returns name → folder, in order.
 */
export function writeDummyAdapters(dir: string, m: ModelSpec, n: number, o: PeftOptions): Record<string, string> {
  const cfg = JSON.stringify(adapterConfig(o), null, 2) + '\n';
  const tensors = adapterTensors(m, o);
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const a = path.resolve(dir, `lora-${i}`);
    const cfgFile = path.join(a, 'adapter_config.json');
    const weights = path.join(a, 'adapter_model.safetensors');
    if (!(fs.existsSync(weights) && fs.existsSync(cfgFile) && fs.readFileSync(cfgFile, 'utf8') === cfg)) {
      fs.mkdirSync(a, { recursive: true });
      writeZeroSafetensors(weights, tensors);
      fs.writeFileSync(cfgFile, cfg);
    }
    out[`lora-${i}`] = a;
  }
  return out;
}
