// Each launcher kind's command line, environment, readiness rule and metrics path: one
// exhaustive handler table, plus the MoE experiment's two vLLM setups (Baseline, DefaultAll2All).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GenerateSpec, LauncherSpec, LlamaCppSpec, ServerCommand, SimSpec, VllmSpec, ExternalSpec } from './types.ts';

const num = (flag: string, v: number | undefined): string[] => (v === undefined ? [] : [flag, String(v)]);
const local = (host: string | undefined, port: number) => `http://${host && host !== '0.0.0.0' ? host : '127.0.0.1'}:${port}`;

function vllm(s: VllmSpec): ServerCommand {
  const env: Record<string, string> = {};
  // vLLM listens on every interface without --host: bind loopback unless told otherwise
  const args = ['serve', s.model, '--port', String(s.port), '--host', s.host ?? '127.0.0.1'];
  args.push(...num('--tensor-parallel-size', s.tensorParallelSize), ...num('--data-parallel-size', s.dataParallelSize));
  if (s.enableExpertParallel) args.push('--enable-expert-parallel');
  if (s.all2allBackend) {
    if ((s.all2allVia ?? 'flag') === 'flag') args.push('--all2all-backend', s.all2allBackend);
    else env.VLLM_ALL2ALL_BACKEND = s.all2allBackend;
  }
  for (const p of s.flashinferMoe ?? []) env[`VLLM_USE_FLASHINFER_MOE_${p}`] = '1';
  if (s.flashinferMoeBackend) env.VLLM_FLASHINFER_MOE_BACKEND = s.flashinferMoeBackend;
  args.push(
    ...num('--max-num-batched-tokens', s.maxNumBatchedTokens),
    ...num('--max-num-seqs', s.maxNumSeqs),
    ...num('--max-model-len', s.maxModelLen),
    ...num('--gpu-memory-utilization', s.gpuMemoryUtilization),
  );
  if (s.lora) {
    args.push('--enable-lora', ...num('--max-loras', s.lora.maxLoras), ...num('--max-cpu-loras', s.lora.maxCpuLoras), ...num('--max-lora-rank', s.lora.maxLoraRank));
    const mods = Object.entries(s.lora.modules ?? {});
    if (mods.length) args.push('--lora-modules', ...mods.map(([n, p]) => `${n}=${p}`));
    if (s.lora.runtimeUpdates) env.VLLM_ALLOW_RUNTIME_LORA_UPDATING = 'True';
  }
  if (s.returnRoutedExperts) args.push('--enable-return-routed-experts');
  if (s.loadFormat) args.push('--load-format', s.loadFormat);
  if (s.gpus) env.CUDA_VISIBLE_DEVICES = s.gpus;
  args.push(...(s.extraArgs ?? []));
  return {
    cmd: s.bin ?? 'vllm',
    args,
    env: { ...env, ...s.env },
    baseUrl: local(s.host, s.port),
    readiness: { kind: 'refused-then-200', path: '/health' },
    metricsPath: '/metrics',
  };
}

function llamacpp(s: LlamaCppSpec): ServerCommand {
  const args = ['-m', s.model, '--host', s.host ?? '127.0.0.1', '--port', String(s.port)];
  args.push(...num('-c', s.ctxSize), ...num('-np', s.parallel), ...num('-ngl', s.gpuLayers));
  if (s.metrics ?? true) args.push('--metrics');
  args.push(...(s.extraArgs ?? []));
  return {
    cmd: s.bin ?? 'llama-server',
    args,
    env: { ...s.env },
    baseUrl: local(s.host, s.port),
    readiness: { kind: '503-then-200', path: '/health' },
    metricsPath: s.metrics ?? true ? '/metrics' : null,
  };
}

function generate(s: GenerateSpec): ServerCommand {
  const [cmd, ...pre] = s.command ?? ['python', 'lora_server.py'];
  const args = [...pre, '--port', String(s.port), '--total-loras', String(s.totalLoras), '--gpu-loras', String(s.gpuLoras)];
  if (s.baseModel) args.push('--base-model', s.baseModel);
  if (s.host) args.push('--host', s.host);
  args.push(...(s.extraArgs ?? []));
  return {
    cmd: cmd!,
    args,
    env: { ...s.env },
    baseUrl: local(s.host, s.port),
    readiness: { kind: 'refused-then-200', path: '/health' },
    metricsPath: null,
  };
}

function external(s: ExternalSpec): ServerCommand {
  return { cmd: null, args: [], env: {}, baseUrl: s.url.replace(/\/+$/, ''), readiness: { kind: 'external', path: '/health' }, metricsPath: '/metrics' };
}

export const SERVELAB_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/servelab.js');

function sim(s: SimSpec): ServerCommand {
  const args = [s.entry ?? SERVELAB_ENTRY, 'sim', 'serve'];
  if (s.preset) args.push('--preset', s.preset);
  if (s.config) args.push('--config', s.config);
  args.push('--port', String(s.port ?? 0));
  if (s.host) args.push('--host', s.host);
  if (s.seed !== undefined) args.push('--seed', String(s.seed));
  if (s.gateLogDir) args.push('--gate-log-dir', s.gateLogDir);
  if (s.returnRoutedExperts) args.push('--enable-return-routed-experts');
  args.push(...(s.extraArgs ?? []));
  return {
    cmd: s.node ?? process.execPath,
    args,
    env: { ...s.env },
    baseUrl: s.port ? local(s.host, s.port) : null,
    readiness: { kind: 'listening-line', path: '/health' },
    metricsPath: '/metrics',
  };
}

/** The exhaustive handler table: every launcher kind has exactly one command builder. */
export const commandBuilders: { [K in LauncherSpec['kind']]: (s: Extract<LauncherSpec, { kind: K }>) => ServerCommand } = {
  vllm,
  llamacpp,
  generate,
  external,
  sim,
};

export function serverCommand(s: LauncherSpec): ServerCommand {
  return (commandBuilders[s.kind] as (x: LauncherSpec) => ServerCommand)(s);
}

/** The old scripts' knobs and defaults (launch_baseline.sh / launch_defaultAll2All.sh). */
export interface MoeLaunchKnobs {
  model?: string;
  port?: number;
  batchTokens?: number;
  maxSeqs?: number;
  maxModelLen?: number;
  /** DefaultAll2All only: expert-parallel size (attention TP over the same GPUs). */
  epSize?: number;
  /** Baseline only: tensor-parallel size. */
  tpSize?: number;
  all2allBackend?: VllmSpec['all2allBackend'];
  all2allVia?: VllmSpec['all2allVia'];
  /** Launch with --enable-return-routed-experts (client-side expert load, `moe bench --gates routed`). */
  returnRoutedExperts?: boolean;
  bin?: string;
}

export const MOE_DEFAULTS = { model: 'mistralai/Mixtral-8x7B-v0.1', port: 8000, batchTokens: 8192, maxSeqs: 32, maxModelLen: 4096, tp: 4, ep: 4 } as const;

/** Baseline: Triton MoE kernel (vLLM's default fused MoE), tensor parallel TP=4. */
export function vllmBaseline(k: MoeLaunchKnobs = {}): VllmSpec {
  return {
    kind: 'vllm',
    name: 'baseline',
    bin: k.bin,
    model: k.model ?? MOE_DEFAULTS.model,
    port: k.port ?? MOE_DEFAULTS.port,
    tensorParallelSize: k.tpSize ?? MOE_DEFAULTS.tp,
    maxNumBatchedTokens: k.batchTokens ?? MOE_DEFAULTS.batchTokens,
    maxNumSeqs: k.maxSeqs ?? MOE_DEFAULTS.maxSeqs,
    maxModelLen: k.maxModelLen ?? MOE_DEFAULTS.maxModelLen,
    ...(k.returnRoutedExperts ? { returnRoutedExperts: true } : {}),
  };
}

/** DefaultAll2All: FlashInfer MoE (FP16 weights), expert parallel over EP_SIZE GPUs, the default all2all backend. */
export function vllmAll2All(k: MoeLaunchKnobs = {}): VllmSpec {
  return {
    kind: 'vllm',
    name: 'all2all',
    bin: k.bin,
    model: k.model ?? MOE_DEFAULTS.model,
    port: k.port ?? MOE_DEFAULTS.port,
    tensorParallelSize: k.epSize ?? MOE_DEFAULTS.ep,
    enableExpertParallel: true,
    all2allBackend: k.all2allBackend ?? 'allgather_reducescatter',
    all2allVia: k.all2allVia ?? 'flag',
    flashinferMoe: ['FP16'],
    maxNumBatchedTokens: k.batchTokens ?? MOE_DEFAULTS.batchTokens,
    maxNumSeqs: k.maxSeqs ?? MOE_DEFAULTS.maxSeqs,
    maxModelLen: k.maxModelLen ?? MOE_DEFAULTS.maxModelLen,
    ...(k.returnRoutedExperts ? { returnRoutedExperts: true } : {}),
  };
}
