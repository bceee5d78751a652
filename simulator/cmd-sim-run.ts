// `servelab sim run`: the offline token-level simulation of N replicas behind a router on a
// virtual clock, written as a run (requests, sim_steps, sim_intervals, gate_loads for MoE).
import path from 'node:path';
import { type CommandSpec, type Parsed, opt, parseOrHelp } from '../core/args.ts';
import { usageError } from '../core/errors.ts';
import { formatDuration, progress } from '../core/output.ts';
import { createRun } from '../core/run.ts';
import { refuseExistingRun } from './run-guard.ts';
import { ROUTERS, type RouterKind } from './cluster.ts';
import { POLICIES } from './engine/index.ts';
import { BLOCK_SIZE, GPU_MEMORY_UTILIZATION, MOE_SKEW } from './engine-defaults.ts';
import { runOffline } from './offline.ts';
import { engineSetup } from './sim-setup.ts';
import { ARRIVALS, type ArrivalSpec, COUNTERS, type Counter, type MixEntry, type WorkloadSpec, checkWorkload, generateWorkload, loadShareGpt, mmppAround, parseLengthSpec } from './workloads/index.ts';

export const spec: CommandSpec = {
  name: 'sim run',
  summary: 'simulate serving offline, token by token, on a virtual clock; writes a run',
  description:
    'Replicas run a vLLM-V1-like engine (token budget, chunked prefill, paged KV, recompute preemption, LoRA, MoE) priced by the roofline cost model. ' +
    'Lengths: N | fixed:N | uniform:A:B | pareto:SCALE:SHAPE[:MAX] | lognormal:MEAN:SIGMA[:MAX] | empirical:A,B,C | empirical:FILE.json.',
  options: {
    model: { type: 'string', help: 'model preset or Hugging Face id', default: 'Llama-3-8B' },
    'model-config': { type: 'string', help: 'a Hugging Face config.json to simulate (named by --model)', metavar: 'FILE' },
    gpu: { type: 'string', help: 'GPU type', default: 'H100' },
    'gpu-file': { type: 'string', help: 'JSON file of your own GPU specs', metavar: 'FILE' },
    tp: { type: 'integer', help: 'tensor-parallel degree per replica', default: 1, min: 1 },
    ep: { type: 'integer', help: 'expert-parallel degree (MoE models)', min: 1 },
    replicas: { type: 'integer', short: 'n', help: 'replicas behind the router', default: 1, min: 1 },
    router: { type: 'string', help: 'request routing', choices: ROUTERS, default: 'round-robin' },
    rate: { type: 'number', help: 'mean arrival rate, requests/s' },
    arrival: { type: 'string', help: 'arrival process', choices: ARRIVALS, default: 'poisson' },
    burstiness: { type: 'number', help: 'Gamma shape (1 = Poisson, < 1 burstier); for --arrival gamma', default: 1 },
    mmpp: { type: 'list', help: 'MMPP as RATE0,RATE1,SWITCH0,SWITCH1 (default: rate·(1∓0.5), 50 mean gaps per state)', metavar: 'R0,R1,S0,S1' },
    'num-requests': { type: 'integer', help: 'requests to send', min: 0 },
    duration: { type: 'number', help: 'simulated seconds of arrivals (with or instead of --num-requests)' },
    'input-len': { type: 'string', help: 'prompt length distribution', default: 'lognormal:250:0.8:4096' },
    'output-len': { type: 'string', help: 'output length distribution', default: 'lognormal:200:0.8:4096' },
    dataset: { type: 'string', help: 'ShareGPT-format JSON file (prompts and lengths come from it)', metavar: 'FILE' },
    tokenizer: { type: 'string', help: 'how dataset lengths are counted', choices: COUNTERS, default: 'words' },
    'ignore-eos': { type: 'boolean', help: 'generate exactly the sampled output length (finish_reason length)' },
    adapters: { type: 'integer', help: 'spread requests over N LoRA adapters (0 = none)', default: 0, min: 0 },
    'max-loras': { type: 'integer', help: 'LoRA adapters per batch', default: 4, min: 1 },
    'gpu-loras': { type: 'integer', help: 'LoRA adapters resident in HBM (LRU)', default: 8, min: 1 },
    'lora-rank': { type: 'integer', help: 'LoRA rank', default: 16, min: 1 },
    'moe-skew': { type: 'number', help: 'MoE routing skew by prompt topic, 0…1 (MoE models)', default: MOE_SKEW },
    policy: { type: 'string', help: 'waiting-queue policy', choices: POLICIES, default: 'fcfs' },
    'max-num-seqs': { type: 'integer', help: "vLLM max_num_seqs [default: vLLM's for the GPU: 1024 on H100/H200, 256 on A100]", min: 1 },
    'max-num-batched-tokens': { type: 'integer', help: "vLLM max_num_batched_tokens [default: vLLM's for the GPU: 8192 on H100/H200, 2048 on A100]", min: 1 },
    'gpu-memory-utilization': { type: 'number', help: 'HBM fraction for weights + KV cache', default: GPU_MEMORY_UTILIZATION },
    'block-size': { type: 'integer', help: 'KV block size, tokens', default: BLOCK_SIZE, min: 1 },
    'step-by-step': { type: 'boolean', help: 'no closed-form decode stretches (slower; same results)' },
    chunks: { type: 'boolean', help: 'also write per-token chunk times (chunks table)' },
    gates: { type: 'boolean', help: 'write MoE gate loads (one row per step, layer and expert; --no-gates to skip)', default: true },
    'gate-min-tokens': { type: 'integer', help: 'write gate loads only of steps with at least N tokens', default: 0, min: 0 },
    seed: { type: 'integer', help: 'random seed (same seed, same records)', default: 0 },
    experiment: { type: 'string', help: 'experiment name (run folder parent)', default: 'sim' },
    'run-id': { type: 'string', help: 'run id (default: timestamp)' },
    out: { type: 'string', help: 'write the run into this folder' },
    data: { type: 'string', help: 'data folder (runs go to DATA/runs/EXPERIMENT/RUN)' },
  },
  examples: [
    'servelab sim run --rate 20 --num-requests 2000',
    'servelab sim run --model Llama-3-8B --gpu H100 --replicas 8 --router least-outstanding --rate 300 --duration 60',
    'servelab sim run --arrival gamma --burstiness 0.5 --rate 10 --num-requests 500 --input-len pareto:100:1.5:4096 --output-len uniform:50:300',
    'servelab sim run --model Qwen3-30B-A3B --dataset sharegpt.json --tokenizer llama --rate 5 --num-requests 200 --out /tmp/moe-run',
  ],
};

export function workloadFromFlags(p: Parsed): WorkloadSpec {
  const rate = opt.num(p, 'rate');
  const kind = opt.str(p, 'arrival')!;
  if (rate === undefined && !(kind === 'mmpp' && opt.list(p, 'mmpp').length)) throw usageError('--rate: required (mean requests per second), e.g. --rate 10');
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) throw usageError(`--rate: ${rate} must be a positive number of requests per second`);
  let arrival: ArrivalSpec;
  const burstiness = opt.num(p, 'burstiness')!;
  if (!(burstiness > 0 && Number.isFinite(burstiness))) throw usageError(`--burstiness: ${burstiness} must be a positive number (the Gamma shape: 1 = Poisson, < 1 burstier)`);
  if (kind === 'gamma') arrival = { kind, rate: rate!, burstiness };
  else if (kind === 'mmpp') {
    const m = opt.list(p, 'mmpp').map(Number);
    if (m.length && (m.length !== 4 || m.some((x) => !Number.isFinite(x)))) throw usageError(`--mmpp: '${opt.list(p, 'mmpp').join(',')}' must be four numbers RATE0,RATE1,SWITCH0,SWITCH1`);
    arrival = m.length ? { kind, rates: [m[0]!, m[1]!], switch: [m[2]!, m[3]!] } : mmppAround(rate!);
  } else arrival = { kind: kind as 'poisson' | 'constant', rate: rate! };
  const count = opt.num(p, 'num-requests');
  const duration = opt.num(p, 'duration');
  if (count === undefined && duration === undefined) throw usageError('give --num-requests N or --duration SECONDS');
  if (duration !== undefined && !(duration > 0 && Number.isFinite(duration))) throw usageError(`--duration: ${duration} must be a positive number of simulated seconds`);
  const file = opt.str(p, 'dataset');
  const adapters = opt.num(p, 'adapters')!;
  const mix: MixEntry[] | undefined = adapters > 0 ? Array.from({ length: adapters }, (_, i) => ({ name: `adapter-${i}`, weight: 1, adapter: `adapter-${i}` })) : undefined;
  const spec: WorkloadSpec = {
    arrival,
    count,
    duration,
    input: file ? undefined : parseLengthSpec(opt.str(p, 'input-len')!, '--input-len'),
    output: file ? undefined : parseLengthSpec(opt.str(p, 'output-len')!, '--output-len'),
    dataset: file ? { name: path.basename(file), entries: loadShareGpt(file, { counter: opt.str(p, 'tokenizer') as Counter }) } : undefined,
    mix,
    ignoreEos: opt.bool(p, 'ignore-eos'),
    seed: opt.num(p, 'seed')!,
  };
  // Everything else the generator would reject, before a run folder is created.
  checkWorkload(spec);
  return spec;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const workload = workloadFromFlags(p);
  const moeSkew = opt.num(p, 'moe-skew')!;
  if (!(moeSkew >= 0 && moeSkew <= 1)) throw usageError(`--moe-skew: ${moeSkew} must be between 0 and 1`);
  const adaptersFlag = opt.num(p, 'adapters')!;
  if (adaptersFlag > 0 && opt.num(p, 'gpu-loras')! < opt.num(p, 'max-loras')!) {
    throw usageError(`--gpu-loras: ${opt.num(p, 'gpu-loras')} must be ≥ --max-loras ${opt.num(p, 'max-loras')} (every adapter of a batch is resident in HBM)`);
  }
  const seed = opt.num(p, 'seed')!;
  const adapters = opt.num(p, 'adapters')!;
  const setup = engineSetup({
    model: opt.str(p, 'model')!,
    modelConfig: opt.str(p, 'model-config'),
    gpu: opt.str(p, 'gpu')!,
    gpuFile: opt.str(p, 'gpu-file'),
    tp: opt.num(p, 'tp'),
    ep: opt.num(p, 'ep'),
    gpuMemoryUtilization: opt.num(p, 'gpu-memory-utilization'),
    blockSize: opt.num(p, 'block-size'),
    maxNumSeqs: opt.num(p, 'max-num-seqs'),
    maxNumBatchedTokens: opt.num(p, 'max-num-batched-tokens'),
    policy: opt.str(p, 'policy') as 'fcfs' | 'priority',
    seed,
    moeSkew: opt.num(p, 'moe-skew'),
    lora: adapters > 0 ? { maxLoras: opt.num(p, 'max-loras')!, gpuLoras: opt.num(p, 'gpu-loras')!, rank: opt.num(p, 'lora-rank')! } : undefined,
    closedForm: !opt.bool(p, 'step-by-step'),
    tokenEvents: opt.bool(p, 'chunks'),
  });
  const out = opt.str(p, 'out');
  refuseExistingRun({ out, runId: opt.str(p, 'run-id'), dataDir: opt.str(p, 'data'), experiment: opt.str(p, 'experiment')! });
  const handle = createRun({
    experiment: opt.str(p, 'experiment')!,
    runId: opt.str(p, 'run-id'),
    dataDir: opt.str(p, 'data'),
    dir: out ? path.resolve(out) : undefined,
    config: { command: 'sim run', ...p.opts },
    servers: [{ kind: 'sim', model: setup.model.name, gpu: setup.cost.gpu.name, tp: setup.cost.tp, replicas: opt.num(p, 'replicas'), kvBlocks: setup.engine.kvBlocks }],
    command: `servelab sim run ${argv.join(' ')}`,
  });
  const total = workload.count ?? 0;
  const bar = total > 0 ? progress('sim run', total) : undefined;
  const t0 = performance.now();
  let summary;
  try {
    summary = runOffline({
      cluster: { replicas: opt.num(p, 'replicas')!, router: opt.str(p, 'router') as RouterKind, seed, engine: setup.engine },
      requests: generateWorkload(workload),
      sink: handle,
      write: { chunks: opt.bool(p, 'chunks'), gates: opt.bool(p, 'gates'), gateMinTokens: opt.num(p, 'gate-min-tokens') },
      model: setup.model.name,
      onProgress: bar ? (done, t) => bar.tick(done, `(${t.toFixed(1)} s simulated)`) : undefined,
      progressEvery: 1000,
    });
  } catch (err) {
    handle.finish('failed', (err as Error).message);
    throw err;
  }
  bar?.end();
  handle.finish('complete');
  const wall = (performance.now() - t0) / 1000;
  const lines = [
    `${summary.finished} requests (${summary.aborted} aborted), ${summary.outputTokens} output tokens, ${summary.preemptions} preemptions`,
    `${summary.simSeconds.toFixed(3)} s simulated in ${formatDuration(wall)} wall; ${summary.steps} engine steps (${summary.stretches} closed-form stretches)`,
    `run: ${handle.dir}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
