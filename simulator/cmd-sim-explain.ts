// `servelab sim explain`: prices one engine step for a model on a GPU and prints every
// operation's FLOPs, bytes, time and bound, the component breakdown and the memory plan.
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { usageError } from '../core/errors.ts';
import { MODEL_FLAGS, costModelOptions, nonNegative } from './cli-model-flags.ts';
import { createCostModel } from './cost-model.ts';
import { derive } from './models.ts';
import type { BatchShape } from './types.ts';

export const spec: CommandSpec = {
  name: 'sim explain',
  summary: 'Price one engine step and explain it: per-operation roofline, communication, overheads, bottleneck.',
  description:
    'The step holds --prefill-seqs prompt chunks of --prefill tokens in all (each after --cached tokens already in the KV cache)\n' +
    'and --decode sequences decoding one token each at a mean context of --ctx tokens. The last table lists the\n' +
    "coefficients that priced the step and each one's source: measured (which calibration file) or prior.",
  options: {
    ...MODEL_FLAGS,
    prefill: { type: 'integer', help: 'prefill tokens in the step (sum over chunks)', default: 0, min: 0, metavar: 'TOKENS' },
    'prefill-seqs': { type: 'integer', help: 'sequences the prefill tokens belong to', default: 1, min: 1, metavar: 'N' },
    cached: { type: 'integer', help: 'tokens already cached before each prefill chunk', default: 0, min: 0, metavar: 'TOKENS' },
    decode: { type: 'integer', help: 'sequences decoding one token each', default: 0, min: 0, metavar: 'N' },
    ctx: { type: 'integer', help: 'mean cached context of the decoding sequences', default: 1024, min: 0, metavar: 'TOKENS' },
    'lora-rank': { type: 'integer', help: 'LoRA rank (0 = no LoRA)', default: 0, min: 0, metavar: 'R' },
    'lora-adapters': { type: 'integer', help: 'distinct adapters in the batch', default: 1, min: 1, metavar: 'N' },
    'moe-distinct': { type: 'number', help: 'MoE: distinct experts hit per layer (default: uniform-routing expectation)', metavar: 'N' },
    'moe-max-rank-tokens': { type: 'number', help: 'MoE: tokens×top_k at the most loaded EP rank (default: uniform)', metavar: 'N' },
    'gpu-memory-utilization': { type: 'number', help: 'HBM fraction for weights + KV cache (memory plan line)', default: 0.9, metavar: 'F' },
    eager: { type: 'boolean', help: 'kernels launched from Python, no CUDA graph (adds the launch term per call)' },
    json: { type: 'boolean', help: 'print the breakdown as JSON' },
  },
  examples: [
    'servelab sim explain --model Llama-3-8B --gpu H100 --tp 1 --prefill 2048 --decode 64 --ctx 2048',
    'servelab sim explain --model Llama-3-70B --tp 4 --decode 64 --ctx 2048          # simulation.md worked example',
    'servelab sim explain --model Qwen3-30B-A3B --ep 4 --decode 256 --ctx 1024 --moe-max-rank-tokens 900',
    'servelab sim explain --model-config ./config.json --gpu H200 --prefill 8192',
    'servelab sim explain --model Llama-3-8B --gpu H200 --decode 1 --ctx 512 --eager    # launch-bound',
  ],
};

export async function run(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const p = parseOrHelp(spec, argv, out);
  if (!p) return 0;
  const cm = createCostModel({ ...costModelOptions(p), eager: opt.bool(p, 'eager') });
  const prefill = nonNegative(p, 'prefill');
  const seqs = opt.num(p, 'prefill-seqs')!;
  const cached = nonNegative(p, 'cached');
  const decode = nonNegative(p, 'decode');
  const ctx = nonNegative(p, 'ctx');
  if (prefill === 0 && decode === 0) throw usageError('sim explain: the step is empty: give --prefill TOKENS and/or --decode N');
  const per = prefill / seqs;
  const shape: BatchShape = {
    prefillSeqs: prefill > 0 ? seqs : 0,
    prefillTokens: prefill,
    prefillAttnWork: prefill > 0 ? seqs * per * (cached + per / 2) : 0,
    decodeSeqs: decode,
    decodeCtxSum: decode * ctx,
  };
  const rank = opt.num(p, 'lora-rank')!;
  if (rank > 0) shape.lora = { adapters: opt.num(p, 'lora-adapters')!, tokens: prefill + decode, rank };
  const distinct = opt.num(p, 'moe-distinct');
  const maxRank = opt.num(p, 'moe-max-rank-tokens');
  if (distinct !== undefined || maxRank !== undefined) {
    if (!cm.model.moe) throw usageError(`--moe-*: ${cm.model.name} is not a MoE model`);
    const k = cm.model.moe.topK;
    const E = cm.model.moe.experts;
    const T = prefill + decode;
    shape.moe = {
      distinctExperts: distinct ?? E * (1 - Math.pow(1 - k / E, T)),
      maxRankTokens: maxRank ?? (T * k) / cm.ep,
      maxExpertTokens: (T * k) / E,
    };
  }
  const e = cm.explain(shape);
  const util = opt.num(p, 'gpu-memory-utilization')!;
  const blocks = cm.memory.kvBlocks(util);
  const d = derive(cm.model);
  if (opt.bool(p, 'json')) {
    out(JSON.stringify({ model: cm.model.name, gpu: cm.gpu.name, tp: cm.tp, ep: cm.ep, shape, seconds: e.cost.seconds, bottleneck: e.cost.bottleneck, breakdown: e.cost.breakdown, ops: e.ops, terms: e.terms, memory: { weightBytesPerGpu: cm.memory.weightBytesPerGpu, kvBytesPerTokenPerGpu: cm.memory.kvBytesPerTokenPerGpu, kvBlocks: blocks, gpuMemoryUtilization: util } }, null, 2));
    return 0;
  }
  out(e.text);
  out(
    `memory: weights ${(cm.memory.weightBytesPerGpu / 1e9).toFixed(2)} GB/GPU, KV ${(cm.memory.kvBytesPerTokenPerGpu / 1024).toFixed(1)} KiB/token/GPU, ` +
      `${blocks} blocks of 16 tokens (${blocks * 16} tokens) at ${util} of ${cm.gpu.hbmGB} GB; model ${(d.totalParams / 1e9).toFixed(2)}B params`,
  );
  return 0;
}
