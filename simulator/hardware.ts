// GPU specifications the cost model prices steps against (dense peak FLOPS, HBM, links), with
// aliases users type, and user-defined GPUs loaded from a JSON file.
import fs from 'node:fs';
import { CliError, ExitCode, choiceList, inputError } from '../core/errors.ts';

export interface GpuSpec {
  name: string;
  aliases: readonly string[];
  /** Dense (no sparsity) peak TFLOP/s. */
  bf16Tflops: number;
  /** Dense FP8 peak TFLOP/s; null where the GPU has no FP8 tensor cores. */
  fp8Tflops: number | null;
  /** HBM capacity in GB (10^9 bytes). */
  hbmGB: number;
  /** HBM bandwidth in TB/s (10^12 bytes/s). */
  hbmTBps: number;
  /** NVLink bandwidth in GB/s, both directions together (H100: 900 = 450 per direction). */
  nvlinkGBps: number;
  /** Host link (PCIe) bandwidth in GB/s, one direction. */
  pcieGBps: number;
}

/** simulation.md §3 (datasheets: dense BF16/FP8, HBM, NVLink; PCIe Gen5 x16 ≈ 64 GB/s, Gen4 ≈ 32). */
export const GPUS: readonly GpuSpec[] = [
  {
    name: 'H100',
    aliases: ['h100', 'h100-sxm', 'h100-sxm5', 'h100-80gb', 'h100-sxm-80gb', 'nvidia-h100', 'nvidia-h100-80gb-hbm3'],
    bf16Tflops: 989.4,
    fp8Tflops: 1978.9,
    hbmGB: 80,
    hbmTBps: 3.35,
    nvlinkGBps: 900,
    pcieGBps: 64,
  },
  {
    name: 'H200',
    aliases: ['h200', 'h200-sxm', 'h200-141gb', 'nvidia-h200'],
    bf16Tflops: 989.4,
    fp8Tflops: 1978.9,
    hbmGB: 141,
    hbmTBps: 4.8,
    nvlinkGBps: 900,
    pcieGBps: 64,
  },
  {
    name: 'A100-80GB',
    aliases: ['a100', 'a100-80gb', 'a100-sxm', 'a100-sxm4-80gb', 'a100-80g', 'nvidia-a100-80gb'],
    bf16Tflops: 312,
    fp8Tflops: null,
    hbmGB: 80,
    hbmTBps: 2.039,
    nvlinkGBps: 600,
    pcieGBps: 32,
  },
];

const userGpus: GpuSpec[] = [];

function allGpus(): GpuSpec[] {
  return [...userGpus, ...GPUS];
}

export function gpuNames(): string[] {
  return allGpus().map((g) => g.name);
}

const norm = (s: string) => s.trim().toLowerCase().replace(/[\s_]+/g, '-');

/** A GPU by name or alias (case-insensitive: H100, h100-sxm, A100 …); the error lists the choices. */
export function getGpu(name: string): GpuSpec {
  const key = norm(name);
  for (const g of allGpus()) {
    if (norm(g.name) === key || g.aliases.some((a) => norm(a) === key)) return g;
  }
  throw new CliError(`unknown GPU: ${choiceList(name, gpuNames())}`, ExitCode.usage, [
    'add your own with --gpu-file FILE.json (fields: name, bf16Tflops, fp8Tflops, hbmGB, hbmTBps, nvlinkGBps, pcieGBps)',
  ]);
}

const NUMBER_FIELDS = ['bf16Tflops', 'hbmGB', 'hbmTBps', 'nvlinkGBps', 'pcieGBps'] as const;

/** Validates one GPU object from a user file; `where` names the file (and entry). */
export function parseGpu(obj: unknown, where: string): GpuSpec {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw inputError(where, undefined, 'expected a JSON object with a GPU spec');
  const o = obj as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name.trim() === '') throw inputError(where, 'name', 'missing or not a string');
  const spec: Record<string, unknown> = { name: o.name };
  for (const f of NUMBER_FIELDS) {
    const v = o[f];
    if (v === undefined) throw inputError(where, f, 'missing (a positive number)');
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw inputError(where, f, `${JSON.stringify(v)} is not a positive number`);
    spec[f] = v;
  }
  const fp8 = o.fp8Tflops;
  if (fp8 !== undefined && fp8 !== null && (typeof fp8 !== 'number' || !(fp8 > 0))) {
    throw inputError(where, 'fp8Tflops', `${JSON.stringify(fp8)} is not a positive number or null`);
  }
  const aliases = o.aliases ?? [];
  if (!Array.isArray(aliases) || aliases.some((a) => typeof a !== 'string')) throw inputError(where, 'aliases', 'must be an array of strings');
  return { ...(spec as unknown as GpuSpec), fp8Tflops: (fp8 as number | null | undefined) ?? null, aliases: aliases as string[] };
}

/** Reads a JSON file holding one GPU object or an array of them, and registers them for getGpu. */
export function loadGpuFile(path: string, readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): GpuSpec[] {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw inputError(path, undefined, `cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw inputError(path, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(data) ? data : [data];
  const gpus = list.map((g, i) => parseGpu(g, Array.isArray(data) ? `${path}[${i}]` : path));
  for (const g of gpus) {
    const i = userGpus.findIndex((u) => norm(u.name) === norm(g.name));
    if (i >= 0) userGpus.splice(i, 1);
    userGpus.unshift(g);
  }
  return gpus;
}

/** Peak FLOP/s for a weight dtype (fp8 falls back to an error on GPUs without FP8). */
export function peakFlops(gpu: GpuSpec, dtype: 'bf16' | 'fp8'): number {
  if (dtype === 'fp8') {
    if (gpu.fp8Tflops === null) throw new CliError(`${gpu.name} has no FP8 tensor cores: use --dtype bf16`, ExitCode.usage);
    return gpu.fp8Tflops * 1e12;
  }
  return gpu.bf16Tflops * 1e12;
}
