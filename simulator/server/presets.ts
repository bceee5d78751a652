// Named server setups for servelab's experiments, so a pipeline or a user starts the right
// simulated server with one flag (`--preset moe-baseline`); a preset may start several servers.
import { choiceList, inputError, usageError } from '../../core/errors.ts';
import { defaultConfig, defaultLora, finalizeConfig, mergeConfig, type ServerConfig } from './config.ts';

export interface Preset {
  summary: string;
  /** One entry per server; two entries start two servers on two ports. */
  servers: readonly Partial<ServerConfig>[];
}

/** The old MoE launch scripts' scheduler limits (launch_baseline.sh / launch_defaultAll2All.sh). */
const MOE_LAUNCH = { maxNumBatchedTokens: 8192, maxNumSeqs: 32, maxModelLen: 4096 } as const;

export const PRESETS: Record<string, Preset> = {
  default: {
    summary: 'Llama-3-8B on one H100, vLLM API',
    servers: [{}],
  },
  'moe-baseline': {
    summary: 'Mixtral-8x7B on 4×H100 with TP=4 (Triton MoE baseline), gate logs',
    servers: [{ name: 'baseline', model: 'Mixtral-8x7B', gpus: 4, tp: 4, ep: 1, ...MOE_LAUNCH }],
  },
  'moe-all2all': {
    summary: 'Mixtral-8x7B on 4×H100 with EP=4 (all-to-all), gate logs',
    servers: [{ name: 'all2all', model: 'Mixtral-8x7B', gpus: 4, tp: 1, ep: 4, ...MOE_LAUNCH }],
  },
  lora: {
    summary: 'Llama-2-7B with 128 LoRA adapters, 8 resident in HBM (/generate, /swap_stats)',
    servers: [{ name: 'lora', model: 'Llama-2-7B', maxNumSeqs: 16, lora: { ...defaultLora(), totalLoras: 128, gpuLoras: 8 } }],
  },
  imbalance: {
    summary: 'Llama-3-8B on 4 H100 replicas behind round-robin (/metrics?gpu_id=N)',
    // Chat requests without max_tokens get the rest of the context (vLLM); EOS ends them (~200 tokens).
    servers: [{ name: 'imbalance', gpus: 4, routing: 'round-robin', eosRate: 0.005 }],
  },
  'llama-cpp': {
    summary: 'a 7B chat model on one GPU with the llama.cpp API (/completion, /slots)',
    // A chat model stops by itself: EOS after ~200 tokens on average, so n_predict -1 ends.
    servers: [{ name: 'llama-2-7b-chat', api: 'llamacpp', model: 'Llama-2-7B', servedModelName: 'llama-2-7b-chat', maxNumSeqs: 4, eosRate: 0.005 }],
  },
  'mixed-warfare': {
    summary: 'two llama.cpp servers on two ports: "Thinker" (70B-class, 4 GPUs TP=4) and "Flash" (7B)',
    servers: [
      { name: 'Thinker', api: 'llamacpp', model: 'Llama-3-70B', servedModelName: 'llama-2-70b-chat', gpus: 4, tp: 4, maxNumSeqs: 8, eosRate: 0.005 },
      { name: 'Flash', api: 'llamacpp', model: 'Llama-2-7B', servedModelName: 'llama-2-7b-chat', maxNumSeqs: 8, eosRate: 0.005 },
    ],
  },
  'mixed-warfare-shared': {
    summary: 'mixed-warfare with Flash on Thinker\'s GPU 0: their steps time-slice that GPU (k busy models → each step k× as long)',
    servers: [
      { name: 'Thinker', api: 'llamacpp', model: 'Llama-3-70B', servedModelName: 'llama-2-70b-chat', gpus: 4, gpuIds: [0, 1, 2, 3], tp: 4, maxNumSeqs: 8, eosRate: 0.005 },
      { name: 'Flash', api: 'llamacpp', model: 'Llama-2-7B', servedModelName: 'llama-2-7b-chat', gpus: 1, gpuIds: [0], maxNumSeqs: 8, eosRate: 0.005 },
    ],
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw usageError(`--preset: ${choiceList(name, presetNames())}`);
  return p;
}

const CONFIG_KEYS = Object.keys(defaultConfig());

/**
 * One server's config from a file entry or flags: base defaults ← preset entry ← the entry's
 * own fields. Unknown keys are errors with a did-you-mean (a typo must not pass silently).
 */
export function configFromObject(obj: Record<string, unknown>, where: string, presetEntry: Partial<ServerConfig> = {}): ServerConfig {
  for (const key of Object.keys(obj)) {
    if (key === 'preset') continue;
    if (!CONFIG_KEYS.includes(key)) throw inputError(where, key, `unknown field: ${choiceList(key, [...CONFIG_KEYS, 'preset'])}`);
  }
  let base = mergeConfig(defaultConfig(), presetEntry);
  if (typeof obj.preset === 'string') {
    const p = PRESETS[obj.preset];
    if (!p) throw inputError(where, 'preset', choiceList(obj.preset, presetNames()));
    base = mergeConfig(defaultConfig(), p.servers[0]!);
  }
  const { preset: _p, ...rest } = obj;
  // `gpus: [0, 1]` names the devices (shared with other servers naming them); `gpus: 2` counts them
  if (Array.isArray(rest.gpus)) {
    rest.gpuIds = rest.gpus;
    rest.gpus = rest.gpus.length;
  }
  checkTypes(rest, { ...defaultConfig(), lora: defaultLora() } as unknown as Record<string, unknown>, where);
  return finalizeConfig(mergeConfig(base, rest), where);
}

/** Each field has the JSON type of its default (a YAML `gpu: 1` or `faults: 3` is named, not a crash later). */
function checkTypes(obj: Record<string, unknown>, defaults: Record<string, unknown>, where: string, prefix = ''): void {
  for (const [k, v] of Object.entries(obj)) {
    const d = defaults[k];
    if (v === null || v === undefined || d === null || d === undefined) continue;
    const want = Array.isArray(d) ? 'array' : typeof d;
    const got = Array.isArray(v) ? 'array' : typeof v;
    if (want !== got) throw inputError(where, `${prefix}${k}`, `expected ${want === 'object' ? 'an object' : `a ${want}`}, got ${JSON.stringify(v)}`);
    if (want === 'object') checkTypes(v as Record<string, unknown>, d as Record<string, unknown>, where, `${prefix}${k}.`);
  }
}

/** The servers a preset starts, each finalized, with `patch` (flags) applied to every one. */
export function presetConfigs(name: string, patch: Partial<ServerConfig> = {}): ServerConfig[] {
  const p = getPreset(name);
  return p.servers.map((entry, i) => {
    const c = mergeConfig(mergeConfig(defaultConfig(), entry), patch);
    // Flags give one port; the second server of a preset takes the next one (or 0 = OS picks).
    if (i > 0 && c.port !== 0) c.port += i;
    return finalizeConfig(c, `preset ${name}`);
  });
}

/**
 * A finalized config for in-process use (tests, pipelines): a preset (default: none) with
 * fields over it, e.g. simConfig({ preset: 'lora', port: 0 }).
 */
export function simConfig(fields: Partial<ServerConfig> & { preset?: string } = {}): ServerConfig {
  const { preset, ...rest } = fields;
  const base = preset ? getPreset(preset).servers[0]! : {};
  return finalizeConfig(mergeConfig(mergeConfig(defaultConfig(), base), rest), preset ? `preset ${preset}` : 'config');
}
