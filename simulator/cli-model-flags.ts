// Flags shared by the `servelab sim` subcommands that price steps (model, GPU, parallelism,
// dtype, coefficients), and the cost model they resolve to.
import type { OptionSpec, Parsed } from '../core/args.ts';
import { opt } from '../core/args.ts';
import { usageError } from '../core/errors.ts';
import { defaultCoefficients, loadCoefficients } from './coefficients.ts';
import { type CostModelOptions, EP_BACKENDS, type EpBackend, type FullCostModel, createCostModel } from './cost-model.ts';
import { getGpu, loadGpuFile } from './hardware.ts';
import { getModel, loadModelConfig, type ModelSpec } from './models.ts';

export const MODEL_FLAGS: Record<string, OptionSpec> = {
  model: { type: 'string', short: 'm', help: 'model preset, alias or Hugging Face id (see servelab sim models)', default: 'Llama-3-8B', metavar: 'NAME' },
  'model-config': { type: 'string', help: 'a Hugging Face config.json instead of a preset', metavar: 'FILE' },
  gpu: { type: 'string', help: 'GPU (see servelab sim gpus)', default: 'H100', metavar: 'NAME' },
  'gpu-file': { type: 'string', help: 'JSON file adding GPUs (one object or an array)', metavar: 'FILE' },
  tp: { type: 'integer', help: 'tensor-parallel degree', default: 1, min: 1, metavar: 'N' },
  ep: { type: 'integer', help: 'expert-parallel degree (MoE models)', default: 1, min: 1, metavar: 'N' },
  'ep-backend': { type: 'string', help: 'EP communication', choices: EP_BACKENDS, default: 'all2all' },
  dtype: { type: 'string', help: 'weight dtype', choices: ['bf16', 'fp8'], default: 'bf16' },
  'kv-dtype': { type: 'string', help: 'KV-cache dtype', choices: ['bf16', 'fp8'], default: 'bf16' },
  coefficients: { type: 'string', help: "coefficients JSON (from servelab sim fit); default: the GPU's calibration (the H100 one where it has none)", metavar: 'FILE' },
};

export function resolveModel(p: Parsed): ModelSpec {
  const file = opt.str(p, 'model-config');
  return file ? loadModelConfig(file) : getModel(opt.str(p, 'model')!);
}

export function costModelOptions(p: Parsed): CostModelOptions {
  const gpuFile = opt.str(p, 'gpu-file');
  if (gpuFile) loadGpuFile(gpuFile);
  const coeffFile = opt.str(p, 'coefficients');
  const ep = opt.num(p, 'ep') ?? 1;
  const backend = opt.str(p, 'ep-backend') ?? 'all2all';
  const gpu = getGpu(opt.str(p, 'gpu')!);
  return {
    gpu,
    model: resolveModel(p),
    tp: opt.num(p, 'tp') ?? 1,
    ep,
    epBackend: backend as EpBackend,
    dtype: (opt.str(p, 'dtype') ?? 'bf16') as 'bf16' | 'fp8',
    kvDtype: (opt.str(p, 'kv-dtype') ?? 'bf16') as 'bf16' | 'fp8',
    coefficients: coeffFile ? loadCoefficients(coeffFile, defaultCoefficients(gpu.name)) : defaultCoefficients(gpu.name),
  };
}

export function resolveCostModel(p: Parsed): FullCostModel {
  return createCostModel(costModelOptions(p));
}

export function nonNegative(p: Parsed, name: string): number {
  const v = opt.num(p, name) ?? 0;
  if (v < 0) throw usageError(`--${name}: ${v} is negative`);
  return v;
}
