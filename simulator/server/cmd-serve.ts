// `servelab sim serve`: the simulated GPU server on the real clock. Prints one
// `listening on http://HOST:PORT` line per server as its first stdout output, and closes
// cleanly on SIGTERM/SIGINT.
import { opt, type CommandSpec, type Parsed, parseOrHelp } from '../../core/args.ts';
import { ExitCode } from '../../core/errors.ts';
import { APIS, ERROR_MODES, finalizeConfig, mergeConfig, readConfigFile, ROUTINGS, defaultConfig, type ServerConfig } from './config.ts';
import { configFromObject, getPreset, presetConfigs, presetNames } from './presets.ts';
import { startSimServers, type SimServer, type StartOptions } from './server.ts';

export const spec: CommandSpec = {
  name: 'sim serve',
  summary: 'serve the serving model over HTTP on the real clock (vLLM, llama.cpp, /generate APIs)',
  description: [
    'With no preset: Llama-3-8B on one H100 with vLLM\'s OpenAI API. Token counts use the LLaMA',
    'tokenizer (llama-tokenizer-js): prompt tokens = encode(prompt).length (BOS included);',
    'every output token is one " word" token. Flags override the preset or config file.',
    `Presets: ${presetNames().join(', ')}.`,
    'Shared GPUs: servers of one config (or preset) whose `gpus: [IDS]` name the same device IDs time-slice',
    'them: a step that starts while k replicas on any of its GPUs have requests (itself included) takes k × its',
    'solo time (mixed-warfare-shared puts Flash on Thinker\'s GPU 0). `gpus: N` means N GPUs of its own.',
  ].join('\n'),
  options: {
    preset: { type: 'string', help: 'a named setup', choices: presetNames() },
    config: { type: 'string', help: 'JSON or YAML: one server, or {servers: [...]} for several ports', metavar: 'FILE' },
    model: { type: 'string', help: 'model preset or Hugging Face id (e.g. Llama-3-8B, mistralai/Mixtral-8x7B-v0.1)' },
    'served-model-name': { type: 'string', help: 'the name clients send as `model`' },
    api: { type: 'string', help: 'primary API', choices: APIS },
    gpu: { type: 'string', help: 'GPU type (H100, H200, A100-80GB)' },
    gpus: { type: 'integer', help: 'GPUs behind this front (replicas = gpus / (tp·ep))', min: 1, metavar: 'N' },
    tp: { type: 'integer', help: 'tensor-parallel size per replica', min: 1 },
    ep: { type: 'integer', help: 'expert-parallel size per replica', min: 1 },
    routing: { type: 'string', help: 'how the front picks a replica', choices: ROUTINGS },
    host: { type: 'string', help: 'address to bind [default: 127.0.0.1]' },
    port: { type: 'integer', help: 'port (0 = the OS picks)', min: 0 },
    seed: { type: 'integer', help: 'seed of generated text and MoE routing' },
    'max-num-seqs': { type: 'integer', help: "sequences per step (vLLM --max-num-seqs) [default: vLLM's for the GPU: 1024 on H100/H200, 256 on A100]", min: 1 },
    'max-num-batched-tokens': { type: 'integer', help: "token budget per step [default: vLLM's for the GPU: 8192 on H100/H200, 2048 on A100]", min: 1 },
    'max-model-len': { type: 'integer', help: 'context length', min: 1 },
    'gate-log-dir': { type: 'string', help: 'write MoE gate logs gate_logs_<replica>.jsonl here from start', metavar: 'DIR' },
    'total-loras': { type: 'integer', help: 'LoRA adapters that exist (lora-0 …, /generate model_id)', min: 1, metavar: 'N' },
    'gpu-loras': { type: 'integer', help: 'adapters resident in HBM at start (0 … M−1)', min: 0, metavar: 'M' },
    'max-loras': { type: 'integer', help: 'distinct adapters per batch (vLLM --max-loras)', min: 1 },
    'max-lora-rank': { type: 'integer', help: 'adapter rank', min: 1 },
    'enable-return-routed-experts': { type: 'boolean', help: "MoE models: non-streaming choices carry routed_experts, each token's experts per layer (base64 .npy, as vLLM's flag)" },
    'enable-runtime-lora': { type: 'boolean', help: 'serve /v1/load_lora_adapter and /v1/unload_lora_adapter (also VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)' },
    'eos-rate': { type: 'number', help: 'per-token EOS probability without ignore_eos (0 = run to max_tokens)', min: 0 },
    'fault-error-rate': { type: 'number', help: 'fraction of requests that fail', min: 0 },
    'fault-error-mode': { type: 'string', help: 'how they fail: HTTP 500, an error after HTTP 200, or both', choices: ERROR_MODES },
    'fault-stall-rate': { type: 'number', help: 'fraction of streams that pause once', min: 0 },
    'fault-stall-ms': { type: 'integer', help: 'length of a stall', min: 0 },
    'fault-crash-after': { type: 'integer', help: 'exit (code 1) when this many requests have arrived', min: 0, metavar: 'N' },
    'fault-slow-start-ms': { type: 'integer', help: '/health answers 503 for this long after start', min: 0 },
    'lateness-warn-ms': { type: 'number', help: 'warn when p99 token lateness exceeds this', min: 0 },
  },
  examples: [
    'servelab sim serve --port 8000',
    'servelab sim serve --preset moe-baseline --gate-log-dir gates/ --port 8000',
    'servelab sim serve --preset lora --total-loras 128 --gpu-loras 2 --port 8000',
    'servelab sim serve --preset imbalance    # then GET /metrics?gpu_id=0',
    'servelab sim serve --config simulator/server/examples/mixed-warfare.yaml   # Thinker :8080, Flash :8081',
  ],
};

/** The config patch the flags give (undefined fields leave the preset's values). */
export function flagsPatch(p: Parsed, env: NodeJS.ProcessEnv = process.env): Partial<ServerConfig> {
  const n = (k: string) => opt.num(p, k);
  const patch: Partial<ServerConfig> = {
    model: opt.str(p, 'model'),
    servedModelName: opt.str(p, 'served-model-name'),
    api: opt.str(p, 'api') as ServerConfig['api'] | undefined,
    gpu: opt.str(p, 'gpu'),
    gpus: n('gpus'),
    tp: n('tp'),
    ep: n('ep'),
    routing: opt.str(p, 'routing') as ServerConfig['routing'] | undefined,
    host: opt.str(p, 'host'),
    port: n('port'),
    seed: n('seed'),
    maxNumSeqs: n('max-num-seqs'),
    maxNumBatchedTokens: n('max-num-batched-tokens'),
    maxModelLen: n('max-model-len'),
    gateLogDir: opt.str(p, 'gate-log-dir'),
    eosRate: n('eos-rate'),
    latenessWarnMs: n('lateness-warn-ms'),
    faults: {
      errorRate: n('fault-error-rate')!,
      errorMode: opt.str(p, 'fault-error-mode') as ServerConfig['faults']['errorMode'],
      stallRate: n('fault-stall-rate')!,
      stallMs: n('fault-stall-ms')!,
      crashAfter: n('fault-crash-after')!,
      slowStartMs: n('fault-slow-start-ms')!,
    },
  };
  if (opt.bool(p, 'enable-return-routed-experts')) patch.returnRoutedExperts = true;
  if (opt.bool(p, 'enable-runtime-lora') || env.VLLM_ALLOW_RUNTIME_LORA_UPDATING?.toLowerCase() === 'true' || env.VLLM_ALLOW_RUNTIME_LORA_UPDATING === '1') {
    patch.runtimeLoraUpdating = true;
  }
  const lora = { totalLoras: n('total-loras'), gpuLoras: n('gpu-loras'), maxLoras: n('max-loras'), rank: n('max-lora-rank') };
  if (Object.values(lora).some((v) => v !== undefined)) {
    // --gpu-loras alone keeps the preset's total; --total-loras alone makes every adapter resident-able from 0.
    patch.lora = lora as ServerConfig['lora'];
  }
  return patch;
}

/** Every server the command line asks for, finalized. */
export function resolveConfigs(p: Parsed, env: NodeJS.ProcessEnv = process.env): ServerConfig[] {
  const patch = flagsPatch(p, env);
  const file = opt.str(p, 'config');
  const preset = opt.str(p, 'preset');
  if (file) {
    const entries = readConfigFile(file);
    const presetEntry = preset ? getPreset(preset).servers[0]! : {};
    return entries.map((e, i) => {
      const where = entries.length > 1 ? `${file}: servers[${i}]` : file;
      const c = configFromObject(e, where, presetEntry);
      const own = { ...patch };
      // One --port for several servers: the i-th takes port + i (0 stays 0: the OS picks).
      if (own.port === undefined) delete own.port;
      else if (own.port !== 0) own.port += i;
      return finalizeConfig(mergeConfig(c, own), where);
    });
  }
  if (preset) return presetConfigs(preset, patch);
  return [finalizeConfig(mergeConfig(defaultConfig(), patch), 'flags')];
}

export interface ServeEffects {
  stdout: (s: string) => void;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopSignal: () => Promise<string>;
  start?: StartOptions;
}

const defaultServeEffects: ServeEffects = {
  stdout: (s) => process.stdout.write(s),
  stopSignal: () =>
    new Promise((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    }),
};

export async function run(argv: string[], fx: ServeEffects = defaultServeEffects): Promise<number> {
  const parsed = parseOrHelp(spec, argv, (t) => fx.stdout(t + '\n'));
  if (!parsed) return ExitCode.ok;
  const configs = resolveConfigs(parsed);
  const stop = fx.stopSignal();
  const servers: SimServer[] = await startSimServers(configs, fx.start);
  for (const s of servers) fx.stdout(`listening on ${s.url}\n`);
  await stop;
  await Promise.all(servers.map((s) => s.close()));
  return ExitCode.ok;
}
