// What a server launcher is: a `kind`-tagged spec per server type, and the command, readiness
// rule and URLs each kind's handler derives from it (tested as text; spawning is separate).

/** vLLM MoE/all2all and FlashInfer settings (vllm/envs.py, vllm/config/parallel.py). */
export const ALL2ALL_BACKENDS = [
  'allgather_reducescatter',
  'naive',
  'pplx',
  'deepep_high_throughput',
  'deepep_low_latency',
  'flashinfer_all2allv',
] as const;
export type All2AllBackend = (typeof ALL2ALL_BACKENDS)[number];
export const isAll2AllBackend = (x: string): x is All2AllBackend => (ALL2ALL_BACKENDS as readonly string[]).includes(x);

export const FLASHINFER_MOE_PRECISIONS = ['FP16', 'FP8', 'FP4', 'MXFP4_MXFP8', 'MXFP4_MXFP8_CUTLASS', 'MXFP4_BF16'] as const;
export type FlashInferMoePrecision = (typeof FLASHINFER_MOE_PRECISIONS)[number];
export const FLASHINFER_MOE_BACKENDS = ['throughput', 'latency', 'masked_gemm'] as const;
export type FlashInferMoeBackend = (typeof FLASHINFER_MOE_BACKENDS)[number];

interface Common {
  /** Name of the server in the run (log file raw/server-<name>.log, manifest servers). */
  name: string;
  host?: string;
  /** Extra environment for the process. */
  env?: Record<string, string>;
  /** Extra arguments appended as is. */
  extraArgs?: string[];
}

export interface VllmSpec extends Common {
  kind: 'vllm';
  model: string;
  port: number;
  /** The vllm executable (default `vllm`). */
  bin?: string;
  tensorParallelSize?: number;
  dataParallelSize?: number;
  enableExpertParallel?: boolean;
  /** all2all backend and how to pass it: the flag (newer builds) or VLLM_ALL2ALL_BACKEND (older). */
  all2allBackend?: All2AllBackend;
  all2allVia?: 'flag' | 'env';
  /** Sets VLLM_USE_FLASHINFER_MOE_<precision>=1 for each. */
  flashinferMoe?: FlashInferMoePrecision[];
  /** VLLM_FLASHINFER_MOE_BACKEND (the vLLM comment says it needs compute capability ≥ 10.0). */
  flashinferMoeBackend?: FlashInferMoeBackend;
  maxNumBatchedTokens?: number;
  maxNumSeqs?: number;
  maxModelLen?: number;
  gpuMemoryUtilization?: number;
  /** Multi-LoRA: --enable-lora, adapters name=path, and slots. */
  lora?: { modules?: Record<string, string>; maxLoras?: number; maxCpuLoras?: number; maxLoraRank?: number; runtimeUpdates?: boolean };
  /** --enable-return-routed-experts: per-token expert ids in responses (client-side gate aggregation). */
  returnRoutedExperts?: boolean;
  loadFormat?: string;
  /** CUDA_VISIBLE_DEVICES. */
  gpus?: string;
}

export interface LlamaCppSpec extends Common {
  kind: 'llamacpp';
  model: string;
  port: number;
  bin?: string;
  ctxSize?: number;
  parallel?: number;
  gpuLayers?: number;
  /** --metrics (the /metrics endpoint exists only with it). */
  metrics?: boolean;
}

export interface GenerateSpec extends Common {
  kind: 'generate';
  /** The LoRA /generate server's command (default: python lora_server.py). */
  command?: string[];
  port: number;
  baseModel?: string;
  totalLoras: number;
  gpuLoras: number;
}

export interface ExternalSpec {
  kind: 'external';
  name: string;
  url: string;
}

export interface SimSpec extends Common {
  kind: 'sim';
  preset?: string;
  config?: string;
  /** 0 (default) lets the OS pick; the port is read from the `listening on` line. */
  port?: number;
  seed?: number;
  gateLogDir?: string;
  /** --enable-return-routed-experts: non-streaming choices carry routed_experts. */
  returnRoutedExperts?: boolean;
  /** node executable and servelab entry (defaults: this node, bin/servelab.js of this checkout). */
  node?: string;
  entry?: string;
}

export type LauncherSpec = VllmSpec | LlamaCppSpec | GenerateSpec | ExternalSpec | SimSpec;
export type LauncherKind = LauncherSpec['kind'];

/** How a server shows it is ready. */
export type Readiness =
  /** Port closed (connection refused) until ready, then /health 200 (vLLM: the port opens after load). */
  | { kind: 'refused-then-200'; path: string }
  /** Port open early answering 503 while loading, then 200 (llama.cpp). */
  | { kind: '503-then-200'; path: string }
  /** The process prints `listening on URL` once it answers, then /health 200 (servelab sim serve). */
  | { kind: 'listening-line'; path: string }
  /** Already running: /health must answer 200. */
  | { kind: 'external'; path: string };

export interface ServerCommand {
  /** null for an external server (nothing to spawn). */
  cmd: string | null;
  args: string[];
  env: Record<string, string>;
  /** Known before start (null when the process picks the port). */
  baseUrl: string | null;
  readiness: Readiness;
  /** Metrics path relative to the base URL (null: none). */
  metricsPath: string | null;
}

/** The command line as one shell-quoted text (env first), as the old scripts would run it. */
export function commandText(c: ServerCommand): string {
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  return [...env, c.cmd ?? '', ...c.args.map(shellQuote)].filter((s) => s !== '').join(' ');
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
