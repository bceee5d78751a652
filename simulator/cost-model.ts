// The step-time cost model: a per-operation roofline (max of compute and memory time, joined
// by a calibrated knee) with TP/EP communication, MoE, LoRA and overheads, O(1) per step.
import { CliError, ExitCode } from '../core/errors.ts';
import { type Coefficients, OP_FAMILIES, type OpFamily, defaultCoefficients } from './coefficients.ts';
import { type GpuSpec, peakFlops } from './hardware.ts';
import { type ModelSpec, checkTp, derive, kvHeadsPerGpu } from './models.ts';
import { type Explanation, explainStep, termTable } from './explain.ts';
import type { BatchShape, Bottleneck, CostModel, StepCost } from './types.ts';

export type Dtype = 'bf16' | 'fp8';
export const EP_BACKENDS = ['all2all', 'allgather'] as const;
export type EpBackend = (typeof EP_BACKENDS)[number];

export interface CostModelOptions {
  gpu: GpuSpec;
  model: ModelSpec;
  tp?: number;
  /** Expert-parallel degree for MoE models (experts split over ep GPUs, not TP-sharded). */
  ep?: number;
  epBackend?: EpBackend;
  /** Weight dtype (fp8: 1 byte per weight and FP8 peak for the GEMMs). */
  dtype?: Dtype;
  /** KV-cache dtype (default bf16). */
  kvDtype?: Dtype;
  coefficients?: Coefficients;
  /** Bytes per GPU kept aside for activations and the CUDA graph pool (default 1 GiB). */
  activationReserveBytes?: number;
  /** Kernels launched from Python, not replayed from a CUDA graph: each op call costs at least the host launch. */
  eager?: boolean;
}

/** One priced operation, for explain. */
export interface OpDetail {
  component: string;
  family: OpFamily | 'tp_allreduce' | 'ep_all2all' | 'overhead';
  calls: number;
  flops: number;
  bytes: number;
  /** Seconds if compute-bound / memory-bound (all calls), before latency and scale. */
  computeSeconds: number;
  memorySeconds: number;
  seconds: number;
  bound: Bottleneck;
}

export interface MemoryPlan {
  weightBytesPerGpu: number;
  kvBytesPerTokenPerGpu: number;
  /** KV blocks that fit at the given HBM utilization; throws when the weights leave no room. */
  kvBlocks(gpuMemoryUtilization: number, blockSize?: number): number;
  /** HBM bytes per GPU of one LoRA adapter of rank r on every linear layer (attention only for MoE models). */
  adapterBytesPerGpu(rank: number): number;
}

export interface FullCostModel extends CostModel {
  readonly gpu: GpuSpec;
  readonly model: ModelSpec;
  readonly tp: number;
  readonly ep: number;
  readonly coefficients: Coefficients;
  memory: MemoryPlan;
  /** Per-operation detail of a step (slower than stepTime; for explain and fitting). */
  details(shape: BatchShape): { cost: StepCost; ops: OpDetail[] };
  /** The per-component breakdown, the bottleneck, and a readable table. */
  explain(shape: BatchShape): Explanation;
  prefillSeconds(tokens: number): number;
  decodeStepSeconds(batch: number, ctx: number): number;
}

const BYTES: Record<Dtype, number> = { bf16: 2, fp8: 1 };
const ACT = 2;

export function createCostModel(opts: CostModelOptions): FullCostModel {
  const { gpu, model: m } = opts;
  const tp = opts.tp ?? 1;
  const ep = opts.ep ?? 1;
  checkTp(m, tp);
  if (!Number.isInteger(ep) || ep < 1) throw new CliError(`--ep: ${ep} is not a positive whole number`, ExitCode.usage);
  if (ep > 1) {
    if (!m.moe) throw new CliError(`--ep ${ep}: ${m.name} is not a MoE model; use --tp`, ExitCode.usage);
    if (m.moe.experts % ep !== 0) {
      const valid = [...Array(m.moe.experts).keys()].map((i) => i + 1).filter((d) => m.moe!.experts % d === 0);
      throw new CliError(`--ep ${ep} does not divide ${m.name}'s ${m.moe.experts} experts: valid EP degrees are ${valid.join(', ')}`, ExitCode.usage);
    }
  }
  const dtype = opts.dtype ?? 'bf16';
  const kvDtype = opts.kvDtype ?? 'bf16';
  const c = opts.coefficients ?? defaultCoefficients(gpu.name);
  const eager = opts.eager ?? false;
  const launchGap = c.launch.gapSeconds;
  const epBackend = opts.epBackend ?? 'all2all';
  const wB = BYTES[dtype];
  const kvB = BYTES[kvDtype];
  const P = peakFlops(gpu, dtype);
  const Pattn = gpu.bf16Tflops * 1e12;
  const BW = gpu.hbmTBps * 1e12;
  const linkBw = (gpu.nvlinkGBps / 2) * 1e9;
  const d = derive(m, wB, kvB);

  // Per-GPU shapes.
  const h = m.hidden;
  const L = m.layers;
  const moeLayers = m.moe?.moeLayers ?? 0;
  const denseLayers = L - moeLayers;
  const nq = m.heads / tp;
  const nkv = kvHeadsPerGpu(m, tp);
  const hd = m.headDim;
  const qkvOut = (nq + 2 * nkv) * hd;
  const oIn = nq * hd;
  const ffnOut = ((m.gatedFfn ? 2 : 1) * m.intermediate) / tp;
  const ffnIn = m.intermediate / tp;
  const vocabP = m.vocab / tp;
  const E = m.moe?.experts ?? 0;
  const K = m.moe?.topK ?? 0;
  const Ie = m.moe?.expertIntermediate ?? 0;
  const expertShard = ep > 1 ? 1 : tp;
  const expertWeightBytes = (3 * h * Ie * wB) / expertShard;
  const loraDims = (3 * h + (m.heads + 2 * m.kvHeads) * hd + m.heads * hd + h + (m.moe ? 0 : 3 * h + 3 * m.intermediate)) / tp;

  const nonExpertParams = d.totalParams - moeLayers * d.expertParamsPerLayer;
  const weightBytesPerGpu = (nonExpertParams * wB) / tp + (moeLayers * d.expertParamsPerLayer * wB) / (ep > 1 ? ep : tp);
  const kvBytesPerTokenPerGpu = 2 * L * nkv * hd * kvB;
  const hbm = gpu.hbmGB * 1e9;
  if (weightBytesPerGpu >= hbm) {
    const need = Math.ceil(weightBytesPerGpu / hbm);
    const suggest = d.validTp.find((p) => p >= need * tp);
    throw new CliError(
      `${m.name} does not fit on ${gpu.name}: weights need ${(weightBytesPerGpu / 1e9).toFixed(1)} GB per GPU at TP ${tp}${ep > 1 ? `, EP ${ep}` : ''}, ` +
        `the GPU has ${gpu.hbmGB} GB (short by ${((weightBytesPerGpu - hbm) / 1e9).toFixed(1)} GB)` +
        (suggest ? `; try --tp ${suggest}` : ''),
      ExitCode.usage,
    );
  }
  const reserve = opts.activationReserveBytes ?? 2 ** 30;

  const ops = c.ops;
  const scale = c.scale;
  const knee = c.knee;
  // (tc^p + tm^p)^(1/p) = hi·g(lo/hi) with g(r) = (1 + r^p)^(1/p), tabulated: Math.pow is too slow
  // for a function called millions of times.
  const KNEE_N = 512;
  const tableFor = (p: number): Float64Array => {
    const t = new Float64Array(KNEE_N + 2);
    for (let i = 0; i <= KNEE_N + 1; i++) t[i] = Number.isFinite(p) ? Math.pow(1 + Math.pow(Math.min(1, i / KNEE_N), p), 1 / p) : 1;
    return t;
  };
  const tables = new Map<number, Float64Array>();
  const kneeTables = {} as Record<OpFamily, Float64Array>;
  for (const fam of Object.keys(ops) as OpFamily[]) {
    const p = ops[fam].knee ?? knee;
    if (!tables.has(p)) tables.set(p, tableFor(p));
    kneeTables[fam] = tables.get(p)!;
  }
  const joinTimes = (table: Float64Array, tc: number, tm: number): number => {
    const hi = tc > tm ? tc : tm;
    if (hi === 0) return 0;
    const x = ((tc > tm ? tm : tc) / hi) * KNEE_N;
    const i = x | 0;
    const f = x - i;
    return hi * (table[i]! * (1 - f) + table[i + 1]! * f);
  };
  // Megatron TP: all-reduces after o_proj and after the FFN; under EP the MoE layer's combine
  // all-to-all replaces the FFN all-reduce.
  const arCalls = 2 * L - (ep > 1 ? moeLayers : 0);
  const arBusBw = linkBw * c.comm.allreduceBwFraction;
  const a2aBw = linkBw * c.comm.all2allBwFraction;

  // Accumulators of the step being priced (price is not re-entrant; JS runs it to completion).
  let compute = 0;
  let memory = 0;
  let latencyTotal = 0;
  let sink: OpDetail[] | undefined;
  // Per-family constants resolved once, indexed by family number: string-keyed lookups in the hot
  // path cost more than the arithmetic.
  const FAM = OP_FAMILIES;
  const famIndex = Object.fromEntries(FAM.map((f, i) => [f, i])) as Record<OpFamily, number>;
  const invFlop = FAM.map((f) => 1 / (ops[f].etaFlop * (f === 'attn_decode' || f === 'attn_prefill' ? Pattn : P)));
  const invMem = FAM.map((f) => 1 / (ops[f].etaMem * BW));
  const famScale = FAM.map((f) => scale[f]);
  const famLat = FAM.map((f) => ops[f].latency * scale[f]);
  const famTable = FAM.map((f) => kneeTables[f]);
  const famHost = FAM.map((f) => ops[f].launchHost ?? c.launch.hostSeconds);
  const op = (fi: number, component: string, calls: number, flops: number, bytes: number): number => {
    const tc = flops * invFlop[fi]!;
    const tm = bytes * invMem[fi]!;
    const roof = joinTimes(famTable[fi]!, tc, tm) * famScale[fi]!;
    let lat = famLat[fi]!;
    // Eager: a call lasts max(kernel + gap, host launch); the excess over the kernel is launch overhead.
    if (eager) lat += Math.max(launchGap, famHost[fi]! - roof - lat);
    if (tc > tm) compute += calls * roof;
    else memory += calls * roof;
    latencyTotal += calls * lat;
    const t = calls * (roof + lat);
    if (sink) sink.push({ component, family: FAM[fi]!, calls, flops: calls * flops, bytes: calls * bytes, computeSeconds: calls * tc, memorySeconds: calls * tm, seconds: t, bound: tc > tm ? 'compute' : 'memory' });
    return t;
  };
  const F_QKV = famIndex.gemm_qkv;
  const F_O = famIndex.gemm_o;
  const F_GU = famIndex.gemm_gate_up;
  const F_DOWN = famIndex.gemm_down;
  const F_LM = famIndex.lm_head;
  const F_AD = famIndex.attn_decode;
  const F_AP = famIndex.attn_prefill;
  const F_MOE = famIndex.moe_expert;
  const F_LORA = famIndex.lora;
  const fc1Name = m.gatedFfn ? 'gate_up_proj' : 'fc1';
  const fc2Name = m.gatedFfn ? 'down_proj' : 'fc2';

  /** Prices a step; pushes op details when `detailSink` is given. */
  function price(s: BatchShape, detailSink?: OpDetail[]): StepCost {
    const T = s.prefillTokens + s.decodeSeqs;
    const R = s.prefillSeqs + s.decodeSeqs;
    if (T <= 0) return { seconds: 0, breakdown: {}, bottleneck: 'overhead' };
    compute = 0;
    memory = 0;
    latencyTotal = 0;
    sink = detailSink;
    // Linear layers of every layer (attention projections), dense FFN layers, LM head.
    let gemm = op(F_QKV, 'qkv_proj', L, 2 * T * h * qkvOut, wB * h * qkvOut + ACT * T * (h + qkvOut));
    gemm += op(F_O, 'o_proj', L, 2 * T * oIn * h, wB * oIn * h + ACT * T * (oIn + h));
    if (denseLayers > 0) {
      gemm += op(F_GU, fc1Name, denseLayers, 2 * T * h * ffnOut, wB * h * ffnOut + ACT * T * (h + ffnOut));
      gemm += op(F_DOWN, fc2Name, denseLayers, 2 * T * ffnIn * h, wB * ffnIn * h + ACT * T * (ffnIn + h));
    }
    const lmHead = op(F_LM, 'lm_head', 1, 2 * R * h * vocabP, wB * h * vocabP + ACT * R * (h + vocabP));
    // Attention: decode reads each sequence's KV; prefill is quadratic in the chunk.
    let attnDecode = 0;
    if (s.decodeSeqs > 0) {
      const flops = 4 * nq * hd * s.decodeCtxSum;
      const bytes = kvB * 2 * nkv * hd * (s.decodeCtxSum + s.decodeSeqs) + ACT * 2 * s.decodeSeqs * nq * hd;
      attnDecode = op(F_AD, 'attn_decode', L, flops, bytes);
    }
    let attnPrefill = 0;
    if (s.prefillTokens > 0) {
      const flops = 4 * nq * hd * s.prefillAttnWork;
      const bytes = ACT * 2 * s.prefillTokens * nq * hd + kvB * 2 * nkv * hd * s.prefillTokens;
      attnPrefill = op(F_AP, 'attn_prefill', L, flops, bytes);
    }
    // MoE experts as a grouped GEMM: every expert hit reads its weights, and each gets an equal
    // share of the GPU, so the layer lasts as long as its most loaded expert — flat (weight reads,
    // by distinct experts hit) while that expert has few tokens, compute-bound on its tokens past
    // the knee. Under TP every GPU holds a slice of every expert; under EP the most loaded rank
    // governs (its experts' FFN and its tokens in the all-to-all). Without routing counts
    // (s.moe absent) the load is taken as uniform.
    let moe = 0;
    let epComm = 0;
    if (moeLayers > 0) {
      const distinct = s.moe?.distinctExperts ?? E * (1 - Math.pow(1 - K / E, T));
      const assignments = T * K;
      let tokens: number;
      let expertsRead: number;
      if (ep > 1) {
        tokens = s.moe?.maxRankTokens ?? assignments / ep;
        expertsRead = s.moe?.maxRankExperts ?? Math.min(E / ep, Math.max(distinct / ep, tokens > 0 ? 1 : 0));
      } else {
        tokens = assignments;
        expertsRead = distinct;
      }
      // the busiest expert (on the busiest rank under EP): at most the rank's tokens, at least their mean
      const perExpert = expertsRead > 0 ? tokens / expertsRead : 0;
      const maxExpert = Math.min(tokens, Math.max(perExpert, s.moe?.maxExpertTokens ?? perExpert));
      const gemmTokens = expertsRead * maxExpert;
      const flops = (6 * gemmTokens * h * Ie) / expertShard;
      const bytes = expertsRead * expertWeightBytes + ACT * tokens * (2 * h + (6 * Ie) / expertShard);
      moe = op(F_MOE, 'moe_experts', moeLayers, flops, bytes);
      if (ep > 1) {
        const sendBytes = epBackend === 'all2all' ? tokens * h * ACT * ((ep - 1) / ep) : T * h * ACT * ((ep - 1) / ep);
        const perCall = c.comm.all2allAlpha + sendBytes / a2aBw;
        epComm = 2 * moeLayers * perCall * scale.ep_all2all;
        if (sink) sink.push({ component: `ep_${epBackend}`, family: 'ep_all2all', calls: 2 * moeLayers, flops: 0, bytes: 2 * moeLayers * sendBytes, computeSeconds: 0, memorySeconds: 0, seconds: epComm, bound: 'ep_comm' });
      }
    }
    let lora = 0;
    if (s.lora && s.lora.tokens > 0 && s.lora.rank > 0) {
      const r = s.lora.rank;
      const flops = 2 * s.lora.tokens * r * loraDims;
      const bytes = s.lora.adapters * r * loraDims * wB + ACT * s.lora.tokens * r * 14;
      lora = op(F_LORA, 'lora_shrink_expand', 2 * L, flops / 2, bytes / 2);
    }
    let tpComm = 0;
    if (tp > 1) {
      const bytes = T * h * ACT;
      const perCall = c.comm.allreduceAlpha + ((2 * (tp - 1)) / tp) * (bytes / arBusBw);
      tpComm = arCalls * perCall * scale.tp_allreduce;
      if (sink) sink.push({ component: 'tp_allreduce', family: 'tp_allreduce', calls: arCalls, flops: 0, bytes: arCalls * bytes, computeSeconds: 0, memorySeconds: 0, seconds: tpComm, bound: 'tp_comm' });
    }
    const o = c.overhead;
    const overhead = L * o.perLayer + o.perStep + R * o.perRequest + (moeLayers > 0 ? o.perMoeStep : 0);
    if (sink) sink.push({ component: 'overhead', family: 'overhead', calls: 1, flops: 0, bytes: 0, computeSeconds: 0, memorySeconds: 0, seconds: overhead, bound: 'overhead' });
    const seconds = gemm + lmHead + attnDecode + attnPrefill + moe + lora + tpComm + epComm + overhead;
    const over = overhead + latencyTotal;
    let bottleneck: Bottleneck = compute >= memory ? 'compute' : 'memory';
    let top = Math.max(compute, memory);
    if (tpComm > top) { bottleneck = 'tp_comm'; top = tpComm; }
    if (epComm > top) { bottleneck = 'ep_comm'; top = epComm; }
    if (over > top) bottleneck = 'overhead';
    return {
      seconds,
      breakdown: { gemm, lm_head: lmHead, attn_prefill: attnPrefill, attn_decode: attnDecode, moe, lora, tp_allreduce: tpComm, ep_all2all: epComm, overhead },
      bottleneck,
    };
  }

  const memoryPlan: MemoryPlan = {
    weightBytesPerGpu,
    kvBytesPerTokenPerGpu,
    kvBlocks(util: number, blockSize = 16): number {
      if (!(util > 0 && util <= 1)) throw new CliError(`--gpu-memory-utilization: ${util} is not in (0, 1]`, ExitCode.usage);
      const free = hbm * util - weightBytesPerGpu - reserve;
      const blocks = Math.floor(free / (blockSize * kvBytesPerTokenPerGpu));
      if (blocks < 1) {
        throw new CliError(
          `${m.name} does not fit on ${gpu.name} at TP ${tp}: weights ${(weightBytesPerGpu / 1e9).toFixed(1)} GB + reserve ${(reserve / 1e9).toFixed(1)} GB ` +
            `exceed ${util} × ${gpu.hbmGB} GB by ${(-free / 1e9 + (blockSize * kvBytesPerTokenPerGpu) / 1e9).toFixed(2)} GB (no room for one KV block); ` +
            `raise --gpu-memory-utilization or --tp (valid: ${d.validTp.join(', ')})`,
          ExitCode.usage,
        );
      }
      return blocks;
    },
    adapterBytesPerGpu: (rank) => L * rank * loraDims * wB,
  };

  return {
    gpu,
    model: m,
    tp,
    ep,
    coefficients: c,
    memory: memoryPlan,
    stepTime: (shape) => price(shape),
    details(shape) {
      const sink: OpDetail[] = [];
      const cost = price(shape, sink);
      return { cost, ops: sink };
    },
    explain(shape) {
      const sink: OpDetail[] = [];
      const cost = price(shape, sink);
      return explainStep(cost, sink, `${m.name} on ${gpu.name} TP ${tp}${ep > 1 ? ` EP ${ep}` : ''} (${dtype}${eager ? ', eager' : ''}; ${c.source})`, termTable(c, sink, eager));
    },
    prefillSeconds: (tokens) => price(prefillShape(tokens)).seconds,
    decodeStepSeconds: (batch, ctx) => price(decodeShape(batch, ctx)).seconds,
  };
}

/** One sequence's whole prompt in one step, no cached prefix. */
export function prefillShape(tokens: number, cached = 0): BatchShape {
  return { prefillSeqs: tokens > 0 ? 1 : 0, prefillTokens: tokens, prefillAttnWork: tokens * (cached + tokens / 2), decodeSeqs: 0, decodeCtxSum: 0 };
}

/** `batch` sequences decoding one token each with `ctx` cached tokens. */
export function decodeShape(batch: number, ctx: number): BatchShape {
  return { prefillSeqs: 0, prefillTokens: 0, prefillAttnWork: 0, decodeSeqs: batch, decodeCtxSum: batch * ctx };
}
