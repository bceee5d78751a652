// The simulated server's configuration: one typed object per server, defaults as vLLM's on
// the configured GPU, and the loader for `--config FILE` (JSON or YAML, one server or a `servers:` list).
import fs from 'node:fs';
import YAML from 'yaml';
import { CliError, choiceList, inputError, usageError } from '../../core/errors.ts';
import { ROUTERS, type RouterKind } from '../cluster.ts';
import { batchDefaults } from '../engine-defaults.ts';
import { getModel, validTpDegrees } from '../models.ts';

export const APIS = ['vllm', 'llamacpp'] as const;
export type Api = (typeof APIS)[number];
export const isApi = (v: unknown): v is Api => APIS.includes(v as Api);

/** The cluster's router policies (simulator/cluster.ts); round-robin is the imbalance experiment's. */
export const ROUTINGS = ROUTERS;
export type Routing = RouterKind;

export const ERROR_MODES = ['http', 'stream', 'mixed'] as const;
export type ErrorMode = (typeof ERROR_MODES)[number];

export interface FaultConfig {
  /** Fraction of generation requests that fail (0–1). */
  errorRate: number;
  /** http: HTTP 500 before any byte; stream: an error event after HTTP 200; mixed: half each. */
  errorMode: ErrorMode;
  /** Fraction of streams that pause once for stallMs. */
  stallRate: number;
  stallMs: number;
  /** The process exits (code 1) when this many generation requests have arrived; 0 = never. */
  crashAfter: number;
  /** /health answers 503 and generation requests 503 for this long after start. */
  slowStartMs: number;
}

export interface LoraConfig {
  /** Adapters that exist (CPU side): named `lora-0` … `lora-(N-1)`, /generate model_id 0…N−1. */
  totalLoras: number;
  /** Adapters resident in HBM at start: 0 … M−1. */
  gpuLoras: number;
  /** Distinct adapters in one batch (vLLM --max-loras). */
  maxLoras: number;
  rank: number;
}

export interface ServerConfig {
  /** A name for logs and multi-server configs (e.g. "Thinker"). */
  name: string;
  api: Api;
  /** Model preset key for the serving model (getModel), e.g. Llama-3-8B. */
  model: string;
  /** Name clients put in `model`; defaults to the model key. */
  servedModelName: string;
  gpu: string;
  /** GPUs behind this front; replicas = gpus / (tp·ep). */
  gpus: number;
  /**
   * Device IDs of those GPUs (a config's `gpus: [0, 1]`); servers of one process naming the same ID
   * share that device, time-sliced (gpu-share.ts). null: devices of its own, no contention.
   */
  gpuIds: number[] | null;
  tp: number;
  ep: number;
  routing: Routing;
  host: string;
  port: number;
  seed: number;
  maxModelLen: number;
  /** vLLM --max-num-seqs; 0 until finalizeConfig fills vLLM's default for the GPU. */
  maxNumSeqs: number;
  /** vLLM --max-num-batched-tokens; 0 until finalizeConfig fills vLLM's default for the GPU. */
  maxNumBatchedTokens: number;
  lora: LoraConfig | null;
  /** Routes /v1/load_lora_adapter and /v1/unload_lora_adapter (as VLLM_ALLOW_RUNTIME_LORA_UPDATING=True). */
  runtimeLoraUpdating: boolean;
  /** Non-streaming choices carry `routed_experts` (vLLM --enable-return-routed-experts; MoE models). */
  returnRoutedExperts: boolean;
  /** Write gate logs (MoE) from start into DIR/gate_logs_<replica>.jsonl. */
  gateLogDir: string | null;
  faults: FaultConfig;
  /** Per-token EOS probability when ignore_eos is off (0 = run to max_tokens). */
  eosRate: number;
  /** Warn on stderr when p99 token lateness over the last window exceeds this. */
  latenessWarnMs: number;
}

export const NO_FAULTS: FaultConfig = { errorRate: 0, errorMode: 'mixed', stallRate: 0, stallMs: 0, crashAfter: 0, slowStartMs: 0 };

/** Context lengths where vLLM's usual launch differs from config.json (none yet). */
const CONTEXT: Record<string, number> = {};

export function defaultConfig(): ServerConfig {
  return {
    name: 'default',
    api: 'vllm',
    model: 'Llama-3-8B',
    servedModelName: '',
    gpu: 'H100',
    gpus: 1,
    gpuIds: null,
    tp: 1,
    ep: 1,
    routing: 'round-robin',
    host: '127.0.0.1',
    port: 0,
    seed: 0,
    maxModelLen: 0,
    // Filled by finalizeConfig from the GPU, as vLLM's get_batch_defaults does (batchDefaults).
    maxNumSeqs: 0,
    maxNumBatchedTokens: 0,
    lora: null,
    runtimeLoraUpdating: false,
    returnRoutedExperts: false,
    gateLogDir: null,
    faults: { ...NO_FAULTS },
    eosRate: 0,
    latenessWarnMs: 5,
  };
}

/** vLLM's batch limits for a GPU: one set of engine defaults (simulator/engine-defaults.ts). */
export { batchDefaults };

/** Deep-merges a partial config (from a preset, a file or flags) over a base. */
export function mergeConfig(base: ServerConfig, patch: Partial<ServerConfig> | Record<string, unknown>): ServerConfig {
  const p = patch as Partial<ServerConfig>;
  const out: ServerConfig = { ...base, ...stripUndefined(p) } as ServerConfig;
  out.faults = { ...base.faults, ...stripUndefined(p.faults ?? {}) };
  if (p.lora === null) out.lora = null;
  else if (p.lora) out.lora = { ...(base.lora ?? defaultLora()), ...stripUndefined(p.lora) };
  return out;
}

export function defaultLora(): LoraConfig {
  return { totalLoras: 0, gpuLoras: 0, maxLoras: 4, rank: 16 };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Flag of a config field, e.g. maxModelLen → max-model-len, faults.errorRate → fault-error-rate. */
function flagOf(field: string): string {
  const kebab = (f: string) => f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (field.startsWith('faults.')) return `fault-${kebab(field.slice('faults.'.length))}`;
  if (field.startsWith('lora.')) return kebab(field.slice('lora.'.length));
  return kebab(field);
}

/** A bad field: a usage error naming the flag when the flags gave it (exit 2), else `where: field: problem`. */
function fieldError(where: string, field: string, problem: string): CliError {
  return where === 'flags' ? usageError(`--${flagOf(field)}: ${problem}`) : inputError(where, field, problem);
}

/** Fills derived defaults and checks ranges; `where` names the source for messages. */
export function finalizeConfig(c: ServerConfig, where = 'config'): ServerConfig {
  const out = { ...c };
  // getModel checks the name (a usage error listing the presets) and knows the context.
  let spec: ReturnType<typeof getModel>;
  try {
    spec = getModel(out.model);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    // sim serve has no --model-config: drop that hint.
    const details = err.details.filter((d) => !d.includes('--model-config'));
    throw new CliError(where === 'flags' ? err.message : `${where}: model: ${err.message}`, err.exitCode, details);
  }
  if (!out.servedModelName) out.servedModelName = out.model;
  if (!out.maxModelLen) out.maxModelLen = CONTEXT[spec.name] ?? spec.maxContext;
  if (!out.maxNumSeqs || !out.maxNumBatchedTokens) {
    let d: ReturnType<typeof batchDefaults>;
    try {
      d = batchDefaults(out.gpu);
    } catch (err) {
      if (err instanceof CliError && where !== 'flags') throw new CliError(`${where}: gpu: ${err.message}`, err.exitCode, err.details);
      throw err;
    }
    out.maxNumSeqs ||= d.maxNumSeqs;
    out.maxNumBatchedTokens ||= d.maxNumBatchedTokens;
  }
  if (!isApi(out.api)) throw fieldError(where, 'api', choiceList(String(out.api), APIS));
  if (!ROUTINGS.includes(out.routing)) throw fieldError(where, 'routing', choiceList(String(out.routing), ROUTINGS));
  if (!ERROR_MODES.includes(out.faults.errorMode)) throw fieldError(where, 'faults.errorMode', choiceList(String(out.faults.errorMode), ERROR_MODES));
  // Upper bounds keep a typo (1e12 GPUs, a 1e308-token context) from exhausting memory.
  const MAX = { gpus: 4096, tp: 1024, ep: 1024, maxNumSeqs: 1_000_000, maxNumBatchedTokens: 100_000_000, maxModelLen: 10_000_000 } as const;
  for (const k of ['gpus', 'tp', 'ep', 'maxNumSeqs', 'maxNumBatchedTokens', 'maxModelLen'] as const) {
    if (!Number.isInteger(out[k]) || out[k] < 1 || out[k] > MAX[k]) throw fieldError(where, k, `must be a whole number from 1 to ${MAX[k].toLocaleString('en-US')}, got ${String(out[k])}`);
  }
  if (!Number.isSafeInteger(out.seed)) throw fieldError(where, 'seed', `must be a whole number, got ${String(out.seed)}`);
  if (out.eosRate !== undefined && !(out.eosRate >= 0 && out.eosRate <= 1)) throw fieldError(where, 'eosRate', `must be between 0 and 1, got ${String(out.eosRate)}`);
  const validTp = validTpDegrees(spec);
  if (!validTp.includes(out.tp)) {
    throw fieldError(where, 'tp', `${out.tp} does not divide ${spec.name}'s ${spec.heads} attention heads / ${spec.kvHeads} KV heads: valid TP degrees are ${validTp.join(', ')}`);
  }
  if (out.gpuIds) {
    const ids = out.gpuIds;
    if (!Array.isArray(ids) || ids.some((g) => !Number.isInteger(g) || g < 0)) throw fieldError(where, 'gpus', `device IDs must be whole numbers ≥ 0, e.g. [0, 1], got ${JSON.stringify(ids)}`);
    if (new Set(ids).size !== ids.length) throw fieldError(where, 'gpus', `device IDs repeat in ${JSON.stringify(ids)}; list each GPU once`);
    if (ids.length !== out.gpus) throw fieldError(where, 'gpus', `${ids.length} device IDs ${JSON.stringify(ids)} for ${out.gpus} GPUs`);
  }
  if (out.gpus % (out.tp * out.ep) !== 0) {
    throw fieldError(where, 'gpus', `${out.gpus} GPUs cannot be split into replicas of tp×ep = ${out.tp * out.ep}`);
  }
  for (const k of ['errorRate', 'stallRate'] as const) {
    const v = out.faults[k];
    if (!(v >= 0 && v <= 1)) throw fieldError(where, `faults.${k}`, `must be between 0 and 1, got ${String(v)}`);
  }
  if (out.lora) {
    const l = out.lora;
    if (!(l.totalLoras >= 1)) throw fieldError(where, 'lora.totalLoras', `must be ≥ 1, got ${l.totalLoras}`);
    if (!(l.gpuLoras >= 0 && l.gpuLoras <= l.totalLoras)) {
      throw fieldError(where, 'lora.gpuLoras', `must be between 0 and totalLoras (${l.totalLoras}), got ${l.gpuLoras}`);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw fieldError(where, 'port', `must be 0–65535, got ${out.port}`);
  return out;
}

export function replicaCount(c: ServerConfig): number {
  return c.gpus / (c.tp * c.ep);
}

/** Reads `--config FILE`: one server object, or `{servers: [...]}`; each entry may name a `preset`. */
export function readConfigFile(file: string, readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    throw usageError(`--config: cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw inputError(file, undefined, `not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw inputError(file, undefined, 'expected an object (one server) or {servers: [...]}');
  const d = doc as Record<string, unknown>;
  if ('servers' in d) {
    if (!Array.isArray(d.servers) || d.servers.length === 0) throw inputError(file, 'servers', 'must be a non-empty list');
    return d.servers.map((s, i) => {
      if (!s || typeof s !== 'object') throw inputError(file, `servers[${i}]`, 'must be an object');
      return s as Record<string, unknown>;
    });
  }
  return [d];
}
