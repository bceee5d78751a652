// Which serving-model configuration replays a measured run: per server of the manifest, the
// simulated server's exact config (`config`), its `sim serve` command line, or vLLM's launch
// flags; flags override any field and supply what the manifest does not say.
import { CliError, usageError } from '../../core/errors.ts';
import { parseArgs } from '../../core/args.ts';
import type { ModelSpec } from '../models.ts';
import { getModel, loadModelConfig, validTpDegrees } from '../models.ts';
import { defaultConfig, finalizeConfig, mergeConfig, type ServerConfig } from '../server/config.ts';
import { resolveConfigs, spec as serveSpec } from '../server/cmd-serve.ts';

/** What the command line says about the server (undefined: the manifest's, else the default). */
export interface PredictFlags {
  model?: string;
  modelConfig?: string;
  gpu?: string;
  gpus?: number;
  tp?: number;
  ep?: number;
  routing?: string;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  gpuMemoryUtilization?: number;
  seed?: number;
}

/** One server the prediction replays: the requests of `endpoints`/`urls` go to it. */
export interface PredictTarget {
  name: string;
  url: string | null;
  config: ServerConfig;
  model: ModelSpec;
  gpuMemoryUtilization?: number;
  /** Where the config came from, for the printout and the manifest. */
  source: 'manifest config' | 'sim serve command' | 'vllm launch flags' | 'flags';
}

/** A manifest `servers` entry as the pipelines and `bench` write it. */
export interface ManifestServer {
  name?: string;
  kind?: string;
  url?: string;
  command?: string;
  /** The simulated server's finalized config (GET /sim/config), the exact source. */
  config?: Partial<ServerConfig>;
}

/** Splits a command text as commandText writes it (single quotes, backslash-escaped quote). */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const j = text.indexOf("'", i + 1);
      cur += text.slice(i + 1, j < 0 ? text.length : j);
      i = j < 0 ? text.length : j;
      any = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push(cur);
  return out;
}

/** The config patch of a `vllm serve MODEL …` command line (GPU type is not in it). */
export function vllmPatch(argv: readonly string[]): { patch: Partial<ServerConfig>; gpuMemoryUtilization?: number } {
  const i = argv.indexOf('serve');
  const args = argv.slice(i + 1);
  const val = new Map<string, string>();
  const bools = new Set<string>();
  let model: string | undefined;
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (!a.startsWith('-')) {
      model ??= a;
      continue;
    }
    const [flag, inline] = a.split('=', 2) as [string, string | undefined];
    const next = args[k + 1];
    if (inline !== undefined) val.set(flag, inline);
    else if (next !== undefined && !next.startsWith('--')) {
      val.set(flag, next);
      k++;
    } else bools.add(flag);
  }
  const num = (...flags: string[]) => {
    for (const f of flags) if (val.has(f)) return Number(val.get(f));
    return undefined;
  };
  model ??= val.get('--model');
  const tp = num('--tensor-parallel-size', '-tp') ?? 1;
  const dp = num('--data-parallel-size', '-dp') ?? 1;
  const ep = bools.has('--enable-expert-parallel') || bools.has('-ep');
  const patch: Partial<ServerConfig> = {
    model,
    // vLLM's expert parallel spreads the experts over TP×DP GPUs (the simulated all2all preset: tp 1, ep N).
    tp: ep ? 1 : tp,
    ep: ep ? tp * dp : 1,
    gpus: tp * dp,
    maxNumSeqs: num('--max-num-seqs'),
    maxNumBatchedTokens: num('--max-num-batched-tokens'),
    maxModelLen: num('--max-model-len'),
  };
  if (bools.has('--enable-lora')) {
    patch.lora = { totalLoras: num('--max-cpu-loras') ?? num('--max-loras') ?? 1, gpuLoras: num('--max-loras') ?? 1, maxLoras: num('--max-loras') ?? 1, rank: num('--max-lora-rank') ?? 16 };
  }
  return { patch, gpuMemoryUtilization: num('--gpu-memory-utilization') };
}

function flagPatch(f: PredictFlags): Partial<ServerConfig> {
  return {
    model: f.model,
    gpu: f.gpu,
    gpus: f.gpus,
    tp: f.tp,
    ep: f.ep,
    routing: f.routing as ServerConfig['routing'] | undefined,
    maxNumSeqs: f.maxNumSeqs,
    maxNumBatchedTokens: f.maxNumBatchedTokens,
    seed: f.seed,
  };
}

const SERVER_FIELDS = new Set(Object.keys(defaultConfig()));

/**
 * The targets of a run: one per manifest server, or one from the flags when the manifest names
 * none it can read. `requestModel` is the served model name the requests asked for (a fallback
 * for --model). Errors name what is missing and the flag that supplies it.
 */
export function predictTargets(given: readonly ManifestServer[], flags: PredictFlags, requestModel?: string | null): PredictTarget[] {
  // A `sim run` manifest names its replicas' model, GPU, TP and count: the same config, spelled its way.
  const servers = given.map((s) => {
    const r = s as ManifestServer & { model?: string; gpu?: string; tp?: number; replicas?: number };
    return !s.config && !s.command && s.kind === 'sim' && r.model && r.gpu ? { ...s, config: { model: r.model, gpu: r.gpu, tp: r.tp ?? 1, gpus: (r.tp ?? 1) * (r.replicas ?? 1) } } : s;
  });
  const readable = servers.filter((s) => s.config || (s.command && /\bsim serve\b|\bvllm\b.*\bserve\b/.test(s.command)));
  if (readable.length === 0) {
    const only = servers.length === 1 ? servers[0]! : undefined;
    return [fromPatch(only?.name ?? 'default', only?.url ?? null, {}, flags, 'flags', undefined, requestModel, servers.length ? 'an external server' : 'no server')];
  }
  return readable.map((s, i) => {
    const name = s.name ?? `server${i}`;
    if (s.config) {
      const own = Object.fromEntries(Object.entries(s.config).filter(([k]) => SERVER_FIELDS.has(k)));
      return fromPatch(name, s.url ?? null, own, flags, 'manifest config');
    }
    const argv = splitCommand(s.command!);
    const k = argv.findIndex((a, j) => a === 'sim' && argv[j + 1] === 'serve');
    if (k >= 0) {
      let base: ServerConfig;
      try {
        base = resolveConfigs(parseArgs(serveSpec, argv.slice(k + 2)), {})[0]!;
      } catch (err) {
        if (err instanceof CliError) throw new CliError(`manifest servers[${i}] (${name}): its command '${s.command}': ${err.message}`, err.exitCode, err.details);
        throw err;
      }
      return fromPatch(name, s.url ?? null, base, flags, 'sim serve command');
    }
    const v = vllmPatch(argv);
    return fromPatch(name, s.url ?? null, v.patch, flags, 'vllm launch flags', v.gpuMemoryUtilization, undefined, 'a vLLM launch (its command line does not say the GPU type)');
  });
}

function fromPatch(
  name: string,
  url: string | null,
  base: Partial<ServerConfig>,
  flags: PredictFlags,
  source: PredictTarget['source'],
  gpuMemoryUtilization?: number,
  requestModel?: string | null,
  what?: string,
): PredictTarget {
  const patch = flagPatch(flags);
  let model: ModelSpec | undefined;
  if (flags.modelConfig) model = loadModelConfig(flags.modelConfig, flags.model ?? base.model ?? requestModel ?? undefined);
  const modelName = flags.model ?? base.model ?? (source === 'flags' && requestModel && knownModel(requestModel) ? requestModel : undefined);
  if (!model && !modelName) {
    throw usageError(`${name}: the run does not say which model served it (${what ?? 'its manifest names no model'}): give --model NAME (a preset: servelab sim models) or --model-config FILE`);
  }
  if (!model) model = getModel(modelName!); // unknown: a usage error listing the presets and --model-config
  if (source !== 'manifest config' && source !== 'sim serve command' && !flags.gpu) {
    throw usageError(`${name}: the run does not say which GPU served it (${what ?? 'no GPU in the manifest'}): give --gpu NAME (H100, H200, A100-80GB; servelab sim gpus) or --gpu-file FILE`);
  }
  // finalizeConfig knows presets only: a config.json model is finalized as a stand-in preset, then its TP checked against its own heads.
  const merged = mergeConfig(mergeConfig(defaultConfig(), base), patch);
  merged.model = model.name;
  if (flags.modelConfig && !validTpDegrees(model).includes(merged.tp)) {
    throw usageError(`--tp: ${merged.tp} does not divide ${model.name}'s ${model.heads} attention heads / ${model.kvHeads} KV heads: valid TP degrees are ${validTpDegrees(model).join(', ')}`);
  }
  let config: ServerConfig;
  try {
    config = finalizeConfig(flags.modelConfig ? { ...merged, model: 'Llama-3-8B', servedModelName: merged.servedModelName || model.name } : merged, 'flags');
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`${name}: ${err.message}`, err.exitCode, err.details);
    throw err;
  }
  config.model = model.name;
  return { name, url, config, model, gpuMemoryUtilization: flags.gpuMemoryUtilization ?? gpuMemoryUtilization, source };
}

function knownModel(name: string): boolean {
  try {
    getModel(name);
    return true;
  } catch {
    return false;
  }
}
