// The server flags `lora serve` and `lora sweep` share (the old run_server_single_engine.py's,
// plus --server), and the knobs they give.
import { opt, type OptionSpec, type Parsed } from '../../core/args.ts';
import { LORA_SERVER_DEFAULTS, LORA_SERVERS, type LoraServerKind, type LoraServerKnobs } from './servers.ts';

export const serverOptions: Record<string, OptionSpec> = {
  server: { type: 'string', help: 'sim: the built-in simulated server; vllm: a real vLLM with --enable-lora; generate: your /generate server (--command)', choices: LORA_SERVERS, default: 'sim' },
  model: { type: 'string', help: 'base model (Hugging Face name)', default: LORA_SERVER_DEFAULTS.model },
  'use-dummy-weights': { type: 'boolean', help: 'dummy base weights (faster startup; vLLM --load-format dummy); --no-use-dummy-weights loads the real ones', default: true },
  dtype: { type: 'string', help: 'data type', choices: ['auto', 'half', 'float16', 'bfloat16', 'float', 'float32'], default: LORA_SERVER_DEFAULTS.dtype },
  'gpu-memory-utilization': { type: 'number', help: 'fraction of GPU memory to use', default: LORA_SERVER_DEFAULTS.gpuMemoryUtilization },
  'max-num-seqs': { type: 'integer', help: 'max sequences per iteration', default: LORA_SERVER_DEFAULTS.maxNumSeqs, min: 1 },
  tokenizer: { type: 'string', help: 'tokenizer name/path given to the server' },
  'max-lora-rank': { type: 'integer', help: 'adapter rank (vLLM --max-lora-rank; the dummy adapters\' r)', default: LORA_SERVER_DEFAULTS.maxLoraRank, min: 1 },
  command: { type: 'string', help: '--server generate: your server\'s command line (--port --total-loras --gpu-loras are appended)', metavar: 'CMD' },
  'adapter-dir': { type: 'string', help: '--server vllm: folder for the dummy PEFT adapters lora-0 … lora-(N−1)', default: 'lora-adapters', metavar: 'DIR' },
  'vllm-bin': { type: 'string', help: '--server vllm: the vllm executable', default: 'vllm' },
  seed: { type: 'integer', help: 'seed (server and workload)', default: 42 },
};

export function serverKnobs(p: Parsed, totalLoras: number, gpuLoras: number, port: number): LoraServerKnobs {
  return {
    server: opt.str(p, 'server') as LoraServerKind,
    model: opt.str(p, 'model')!,
    totalLoras,
    gpuLoras,
    port,
    useDummyWeights: opt.bool(p, 'use-dummy-weights'),
    dtype: opt.str(p, 'dtype')!,
    gpuMemoryUtilization: opt.num(p, 'gpu-memory-utilization')!,
    maxNumSeqs: opt.num(p, 'max-num-seqs')!,
    tokenizer: opt.str(p, 'tokenizer'),
    maxLoraRank: opt.num(p, 'max-lora-rank')!,
    seed: opt.num(p, 'seed'),
    command: opt.str(p, 'command'),
    adapterDir: opt.str(p, 'adapter-dir'),
    vllmBin: opt.str(p, 'vllm-bin'),
  };
}
