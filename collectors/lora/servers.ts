// The LoRA experiment's server, as a launcher spec: the built-in simulated /generate server
// (preset lora), a real vLLM with --enable-lora and N dummy PEFT adapters (adapter i served as
// lora-i, the first M fit the GPU slots), or the user's own /generate server (--command).
import path from 'node:path';
import { usageError } from '../../core/errors.ts';
import { getModel } from '../../simulator/models.ts';
import { writeDummyAdapters } from '../launchers/peft.ts';
import type { LauncherSpec } from '../launchers/types.ts';
import type { Protocol } from '../protocols.ts';

export const LORA_SERVERS = ['sim', 'vllm', 'generate'] as const;
export type LoraServerKind = (typeof LORA_SERVERS)[number];

/** The old server's flags and defaults (run_server_single_engine.py), plus servelab's choices. */
export interface LoraServerKnobs {
  server: LoraServerKind;
  model: string;
  totalLoras: number;
  gpuLoras: number;
  port: number;
  useDummyWeights: boolean;
  dtype: string;
  gpuMemoryUtilization: number;
  maxNumSeqs: number;
  tokenizer?: string;
  maxLoraRank: number;
  seed?: number;
  /** --server generate: the user's command line (its flags get --port/--total-loras/--gpu-loras appended). */
  command?: string;
  /** --server vllm: where the dummy adapters are written. */
  adapterDir?: string;
  vllmBin?: string;
}

export const LORA_SERVER_DEFAULTS = { model: 'facebook/opt-125m', port: 8000, dtype: 'auto', gpuMemoryUtilization: 0.9, maxNumSeqs: 16, maxLoraRank: 8 } as const;

/** Checks N and M as the experiment needs them: 1 ≤ M ≤ N. */
export function checkLoraCounts(total: number, gpu: number): void {
  if (!(Number.isInteger(total) && total >= 1)) throw usageError(`--total-loras: ${total} must be a whole number ≥ 1`);
  if (!(Number.isInteger(gpu) && gpu >= 1)) throw usageError(`--gpu-loras: ${gpu} must be a whole number ≥ 1`);
  if (gpu > total) throw usageError(`--gpu-loras ${gpu} is more than --total-loras ${total}: at most every adapter can be resident (M ≤ N)`);
}

/** The wire protocol the experiment's client speaks to this server. */
export function loraProtocol(kind: LoraServerKind): Protocol {
  return kind === 'vllm' ? 'openai-completions' : 'generate';
}

/** Splits a command line on blanks, honouring '…' and "…" quotes. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  for (let m; (m = re.exec(text)); ) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

/** The launcher spec for one (N, M); for vLLM it writes the N dummy adapters first (`write: false` skips that, for --dry-run). */
export function loraServerSpec(k: LoraServerKnobs, opts: { write?: boolean; name?: string } = {}): LauncherSpec {
  checkLoraCounts(k.totalLoras, k.gpuLoras);
  const name = opts.name ?? `lora-m${k.gpuLoras}`;
  switch (k.server) {
    case 'sim':
      return {
        kind: 'sim', name, preset: 'lora', port: k.port, seed: k.seed,
        extraArgs: ['--model', k.model, '--total-loras', String(k.totalLoras), '--gpu-loras', String(k.gpuLoras), '--max-loras', String(k.gpuLoras), '--max-num-seqs', String(k.maxNumSeqs), '--max-lora-rank', String(k.maxLoraRank)],
      };
    case 'vllm': {
      const dir = path.resolve(k.adapterDir ?? 'lora-adapters');
      const modules: Record<string, string> = {};
      if (opts.write === false) for (let i = 0; i < k.totalLoras; i++) modules[`lora-${i}`] = path.join(dir, `lora-${i}`);
      else Object.assign(modules, writeDummyAdapters(dir, getModel(k.model), k.totalLoras, { rank: k.maxLoraRank, baseModel: k.model }));
      return {
        kind: 'vllm', name, model: k.model, port: k.port, bin: k.vllmBin, maxNumSeqs: k.maxNumSeqs, gpuMemoryUtilization: k.gpuMemoryUtilization,
        loadFormat: k.useDummyWeights ? 'dummy' : undefined,
        // GPU slots = M (max_loras), CPU cache = N (max_cpu_loras); adapters beyond the slots swap in when asked for
        lora: { modules, maxLoras: k.gpuLoras, maxCpuLoras: k.totalLoras, maxLoraRank: k.maxLoraRank },
        extraArgs: ['--dtype', k.dtype, ...(k.tokenizer ? ['--tokenizer', k.tokenizer] : []), ...(k.seed !== undefined ? ['--seed', String(k.seed)] : [])],
      };
    }
    case 'generate': {
      if (!k.command) throw usageError('--server generate needs --command \'python run_server_single_engine.py …\' (your /generate server; --port, --total-loras, --gpu-loras are appended)');
      const cmd = splitCommand(k.command);
      const extra = ['--model', k.model, ...(k.useDummyWeights ? ['--use-dummy-weights'] : []), '--dtype', k.dtype, '--gpu-memory-utilization', String(k.gpuMemoryUtilization), '--max-num-seqs', String(k.maxNumSeqs), ...(k.tokenizer ? ['--tokenizer', k.tokenizer] : [])];
      return { kind: 'generate', name, command: cmd, port: k.port, totalLoras: k.totalLoras, gpuLoras: k.gpuLoras, extraArgs: extra };
    }
  }
}
