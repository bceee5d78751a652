// Tests of the roofline cost model (simulator/cost-model.ts) against worked examples: decode and
// prefill bounds, batching, TP all-reduce, MoE weight reads and imbalance, LoRA costs.
import { describe, expect, it } from 'vitest';
import { defaultCoefficients, priorCoefficients } from '../../simulator/coefficients.ts';
import { createCostModel, decodeShape, prefillShape } from '../../simulator/cost-model.ts';
import { getGpu } from '../../simulator/hardware.ts';
import { derive, getModel } from '../../simulator/models.ts';
import type { BatchShape } from '../../simulator/types.ts';

const H100 = getGpu('H100');
const llama8 = () => createCostModel({ gpu: H100, model: getModel('Llama-3-8B') });

describe('cost model', () => {
  it('worked example (simulation.md §3): Llama-3-70B TP4 decode B=64 ctx 2048', () => {
    const cm = createCostModel({ gpu: H100, model: getModel('Llama-3-70B'), tp: 4 });
    const { ops, cost, text } = cm.explain(decodeShape(64, 2048));
    const byName = Object.fromEntries(ops.map((o) => [o.component, o]));
    const weightBytes = ['qkv_proj', 'o_proj', 'gate_up_proj', 'down_proj', 'lm_head'].reduce((s, k) => s + byName[k]!.bytes, 0);
    // 34.8 GB of weights per GPU (plus a little activation traffic).
    expect(weightBytes / 1e9).toBeGreaterThan(34.8);
    expect(weightBytes / 1e9).toBeLessThan(36);
    // KV: 64 × 2048 × 320 KiB / 4 ≈ 10.7 GB → 3.2 ms at 3.35 TB/s; ours within the calibrated efficiency.
    expect(byName.attn_decode!.bytes / 1e9).toBeCloseTo((64 * 2049 * 320 * 1024) / 4 / 1e9 + 0.004, 1);
    expect(cost.breakdown.attn_decode! * 1e3).toBeGreaterThan(3.2);
    expect(cost.breakdown.attn_decode! * 1e3).toBeLessThan(4.5);
    // All-reduces: 160 calls of ~30–41 µs.
    expect(byName.tp_allreduce!.calls).toBe(160);
    expect(cost.breakdown.tp_allreduce! * 1e3).toBeGreaterThan(4.5);
    expect(cost.breakdown.tp_allreduce! * 1e3).toBeLessThan(7);
    expect(cost.seconds).toBeGreaterThan(0.0104 + 0.0032 + 0.0045);
    expect(cost.seconds).toBeLessThan(0.035);
    expect(cost.bottleneck).toBe('memory');
    expect(text).toMatch(/bottleneck: memory/);
    expect(text).toMatch(/gate_up_proj/);
  });

  it('batch-1 decode sits at the weight-read floor plus overheads; prefill is compute-bound', () => {
    const cm = llama8();
    const floor = derive(getModel('Llama-3-8B')).weightBytes / 3.35e12;
    const t1 = cm.decodeStepSeconds(1, 512);
    expect(t1).toBeGreaterThan(floor);
    expect(t1).toBeLessThan(floor * 1.6);
    expect(cm.stepTime(prefillShape(8192)).bottleneck).toBe('compute');
    // 8192 tokens × 15 GFLOP + attention at ~0.7 of peak: 0.17–0.3 s.
    expect(cm.prefillSeconds(8192)).toBeGreaterThan((8192 * 15e9) / 989.4e12);
    expect(cm.prefillSeconds(8192)).toBeLessThan(0.3);
  });

  it('grows with batch and context, and batching amortizes weights', () => {
    const cm = llama8();
    let prev = 0;
    for (const b of [1, 8, 32, 128, 256]) {
      const t = cm.decodeStepSeconds(b, 1024);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    expect(cm.decodeStepSeconds(32, 4096)).toBeGreaterThan(cm.decodeStepSeconds(32, 1024));
    expect(cm.decodeStepSeconds(64, 512) / 64).toBeLessThan(cm.decodeStepSeconds(1, 512) / 4);
  });

  it('TP all-reduce follows 2L(α + 2(p−1)/p·T·h·b/busBW)', () => {
    const c = defaultCoefficients();
    const m = getModel('Llama-3-8B');
    expect(llama8().stepTime(decodeShape(8, 100)).breakdown.tp_allreduce).toBe(0);
    const cm = createCostModel({ gpu: H100, model: m, tp: 4 });
    const T = 256;
    const busBw = 450e9 * c.comm.allreduceBwFraction;
    const expected = 2 * 32 * (c.comm.allreduceAlpha + (2 * 3) / 4 * ((T * 4096 * 2) / busBw));
    expect(cm.stepTime(decodeShape(T, 100)).breakdown.tp_allreduce).toBeCloseTo(expected, 12);
    // Small model, wide TP: communication dominates a small decode step.
    expect(createCostModel({ gpu: H100, model: m, tp: 8 }).stepTime(decodeShape(1, 100)).bottleneck).toBe('tp_comm');
  });

  it('MoE weight reads follow distinct experts hit; EP is governed by the most loaded rank', () => {
    const model = getModel('Qwen3-30B-A3B');
    const cm = createCostModel({ gpu: H100, model });
    const s1 = cm.explain(decodeShape(1, 512)).ops.find((o) => o.component === 'moe_experts')!;
    const expertBytes = 3 * 2048 * 768 * 2;
    // Batch 1 under uniform routing hits exactly top-k = 8 experts per layer.
    expect(s1.bytes).toBeGreaterThan(48 * 8 * expertBytes);
    expect(s1.bytes).toBeLessThan(48 * 8 * expertBytes * 1.01);
    const shape = decodeShape(64, 512);
    const uniform = cm.stepTime(shape).breakdown.moe!;
    const fewer = cm.stepTime({ ...shape, moe: { distinctExperts: 40, maxRankTokens: 64 * 8, maxExpertTokens: 30 } }).breakdown.moe!;
    expect(fewer).toBeLessThan(uniform);
    const ep = createCostModel({ gpu: H100, model, ep: 4 });
    const even = ep.stepTime({ ...shape, moe: { distinctExperts: 126, maxRankTokens: (64 * 8) / 4, maxExpertTokens: 6 } });
    const skew = ep.stepTime({ ...shape, moe: { distinctExperts: 126, maxRankTokens: 64 * 8 * 0.7, maxExpertTokens: 60 } });
    expect(skew.breakdown.ep_all2all!).toBeGreaterThan(even.breakdown.ep_all2all!);
    expect(skew.breakdown.moe!).toBeGreaterThan(even.breakdown.moe!);
    const ag = createCostModel({ gpu: H100, model, ep: 4, epBackend: 'allgather' });
    expect(ag.stepTime(shape).breakdown.ep_all2all).not.toBe(ep.stepTime(shape).breakdown.ep_all2all);
    expect(() => createCostModel({ gpu: H100, model, ep: 3 })).toThrow(/--ep 3 does not divide .*128 experts: valid EP degrees are 1, 2, 4, 8/);
    expect(() => createCostModel({ gpu: H100, model: getModel('Llama-3-8B'), ep: 2 })).toThrow(/not a MoE model/);
  });

  it('MoE imbalance: TP waits for the most loaded expert past the knee, EP for the most loaded rank', () => {
    const model = getModel('Mixtral-8x7B');
    const tp = createCostModel({ gpu: H100, model, tp: 4 });
    const ep = createCostModel({ gpu: H100, model, ep: 4 });
    const moeTime = (cm: typeof tp, shape: BatchShape, maxRankTokens: number, maxExpertTokens: number, distinctExperts = 8) =>
      cm.stepTime({ ...shape, moe: { distinctExperts, maxRankTokens, maxExpertTokens } });
    // A 2048-token prefill: 4096 assignments over 8 experts (512 each when even).
    const big = prefillShape(2048, 1);
    const tpEven = moeTime(tp, big, 4096, 512).breakdown.moe!;
    const tpSkew = moeTime(tp, big, 4096, 1024).breakdown.moe!;
    expect(tpEven).toBeCloseTo(tp.stepTime(big).breakdown.moe!, 12); // even counts = the uniform default
    expect(tpSkew / tpEven).toBeGreaterThan(1.6); // compute-bound: the busiest expert's tokens govern
    // A decode step of 16 (32 assignments): every expert's FFN is flat below ~64 tokens, so the
    // busiest expert hardly matters; fewer experts hit read fewer weights.
    const small = decodeShape(16, 512);
    const tpFlat = moeTime(tp, small, 32, 4).breakdown.moe!;
    const tpPeak = moeTime(tp, small, 32, 12).breakdown.moe!;
    expect(tpPeak / tpFlat).toBeLessThan(1.1);
    expect(moeTime(tp, small, 32, 12, 5).breakdown.moe!).toBeLessThan(0.75 * tpFlat);
    // EP: the busiest rank's tokens drive its experts' FFN and the all-to-all.
    const epEven = moeTime(ep, big, 1024, 512);
    const epSkew = moeTime(ep, big, 2048, 1024);
    expect(epSkew.breakdown.moe! / epEven.breakdown.moe!).toBeGreaterThan(1.6);
    expect(epSkew.breakdown.ep_all2all!).toBeGreaterThan(1.3 * epEven.breakdown.ep_all2all!); // sublinear: the per-call latency stays
    // inside a rank, one busy expert of its two makes it wait as if both had that load
    const epInner = moeTime(ep, big, 1024, 900).breakdown.moe!;
    expect(epInner / epEven.breakdown.moe!).toBeGreaterThan(1.4);
    // decode under EP reads the weights of the experts hit on the slowest rank: 2 of its 2, even when
    // fewer experts are hit overall (TP reads fewer)
    const hitShape = (maxRankExperts: number) => ({ ...small, moe: { distinctExperts: 5, maxRankTokens: 16, maxExpertTokens: 10, maxRankExperts } });
    expect(ep.stepTime(hitShape(2)).breakdown.moe!).toBeGreaterThan(1.6 * ep.stepTime(hitShape(1)).breakdown.moe!);
  });

  it('LoRA costs grow with rank and with distinct adapters', () => {
    const cm = llama8();
    const base: BatchShape = decodeShape(32, 1024);
    const r8 = cm.stepTime({ ...base, lora: { adapters: 2, tokens: 32, rank: 8 } }).breakdown.lora!;
    const r64 = cm.stepTime({ ...base, lora: { adapters: 2, tokens: 32, rank: 64 } }).breakdown.lora!;
    const many = cm.stepTime({ ...base, lora: { adapters: 16, tokens: 32, rank: 64 } }).breakdown.lora!;
    expect(cm.stepTime(base).breakdown.lora).toBe(0);
    expect(r8).toBeGreaterThan(0);
    expect(r64).toBeGreaterThan(r8);
    expect(many).toBeGreaterThan(r64);
  });

  it('memory plan: weights per GPU, KV blocks, and a clear error when the model does not fit', () => {
    const cm = llama8();
    expect(cm.memory.kvBytesPerTokenPerGpu).toBe(131072);
    // Rank-16 adapter on q,k,v,o,gate,up,down of Llama-3-8B: 16·(4h + 2·4096 + 2·1024 + 3(h + I))·32 layers·2 B.
    expect(cm.memory.adapterBytesPerGpu(16)).toBe(16 * (4 * 4096 + 2 * 4096 + 2 * 1024 + 3 * (4096 + 14336)) * 32 * 2);
    const blocks = cm.memory.kvBlocks(0.9);
    expect(blocks).toBe(Math.floor((80e9 * 0.9 - cm.memory.weightBytesPerGpu - 2 ** 30) / (16 * 131072)));
    // TP 16 > n_kv 8: KV heads are replicated, one per GPU.
    expect(createCostModel({ gpu: H100, model: getModel('Llama-3-8B'), tp: 16 }).memory.kvBytesPerTokenPerGpu).toBe(2 * 32 * 1 * 128 * 2);
    expect(() => createCostModel({ gpu: H100, model: getModel('Llama-3-70B') })).toThrow(/does not fit on H100: weights need 141\.1 GB per GPU at TP 1, the GPU has 80 GB \(short by 61\.1 GB\); try --tp 2/);
    const mixtral = createCostModel({ gpu: H100, model: getModel('Mixtral-8x7B'), tp: 2 });
    expect(() => mixtral.memory.kvBlocks(0.5)).toThrow(/does not fit .* by \d+\.\d+ GB .*valid: 1, 2, 4/);
  });

  it('coefficients change the answer; the calibrated defaults differ from the priors', () => {
    const prior = createCostModel({ gpu: H100, model: getModel('Llama-3-8B'), coefficients: priorCoefficients() });
    expect(defaultCoefficients().source).toMatch(/H100 kernel calibration/);
    const c = defaultCoefficients();
    c.scale.attn_decode = 2;
    const doubled = createCostModel({ gpu: H100, model: getModel('Llama-3-8B'), coefficients: c });
    const shape = decodeShape(64, 4096);
    expect(doubled.stepTime(shape).breakdown.attn_decode).toBeCloseTo(2 * llama8().stepTime(shape).breakdown.attn_decode!, 12);
    expect(prior.stepTime(shape).seconds).not.toBe(llama8().stepTime(shape).seconds);
  });

  it('an empty step costs nothing; breakdown sums to the step time', () => {
    const cm = llama8();
    expect(cm.stepTime(decodeShape(0, 0)).seconds).toBe(0);
    const s = cm.stepTime({ prefillSeqs: 2, prefillTokens: 700, prefillAttnWork: 700 * 400, decodeSeqs: 20, decodeCtxSum: 20_000 });
    expect(Object.values(s.breakdown).reduce((a, b) => a + b, 0)).toBeCloseTo(s.seconds, 12);
  });
});

describe('cost model against independent anchors', () => {
  it('Vidur H100 mlp_up_proj (h 8192 → 2·28672): 0.305–0.319 ms at 1–64 tokens TP1, ~0.044 ms TP8, 0.385 ms at 256', () => {
    const perCall = (tp: number, T: number) => {
      const cm = createCostModel({ gpu: H100, model: getModel('Llama-3-70B'), tp, coefficients: defaultCoefficients() });
      const op = cm.details(decodeShape(T, 0)).ops.find((o) => o.component === 'gate_up_proj')!;
      return (op.seconds / op.calls) * 1e3;
    };
    // 70B at TP1 does not fit one H100, but one op's price does not depend on capacity: relax it.
    const big = { ...H100, hbmGB: 200 };
    const tp1 = (T: number) => {
      const cm = createCostModel({ gpu: big, model: getModel('Llama-3-70B') });
      const op = cm.details(decodeShape(T, 0)).ops.find((o) => o.component === 'gate_up_proj')!;
      return (op.seconds / op.calls) * 1e3;
    };
    for (const T of [1, 64]) {
      expect(tp1(T)).toBeGreaterThan(0.305 * 0.9);
      expect(tp1(T)).toBeLessThan(0.319 * 1.1);
    }
    expect(Math.abs(tp1(256) / 0.385 - 1)).toBeLessThan(0.1);
    expect(Math.abs(perCall(8, 16) / 0.044 - 1)).toBeLessThan(0.15);
  });

  it('under EP the combine all-to-all replaces the MoE layer all-reduce', () => {
    const model = getModel('Qwen3-30B-A3B');
    const ops = createCostModel({ gpu: H100, model, tp: 4, ep: 4 }).details(decodeShape(64, 512)).ops;
    expect(ops.find((o) => o.component === 'tp_allreduce')!.calls).toBe(48);
    expect(ops.find((o) => o.component === 'ep_all2all')!.calls).toBe(96);
    expect(createCostModel({ gpu: H100, model, tp: 4 }).details(decodeShape(64, 512)).ops.find((o) => o.component === 'tp_allreduce')!.calls).toBe(96);
  });
});

describe('dtypes and other GPUs', () => {
  it('fp8 weights halve the weight bytes and speed up memory-bound decode; A100 has no fp8', () => {
    const m = getModel('Llama-3-8B');
    const bf16 = createCostModel({ gpu: H100, model: m });
    const fp8 = createCostModel({ gpu: H100, model: m, dtype: 'fp8', kvDtype: 'fp8' });
    expect(fp8.memory.weightBytesPerGpu).toBeCloseTo(bf16.memory.weightBytesPerGpu / 2, 0);
    expect(fp8.memory.kvBytesPerTokenPerGpu).toBe(bf16.memory.kvBytesPerTokenPerGpu / 2);
    expect(fp8.decodeStepSeconds(8, 1024)).toBeLessThan(bf16.decodeStepSeconds(8, 1024) * 0.75);
    expect(() => createCostModel({ gpu: getGpu('A100'), model: m, dtype: 'fp8' })).toThrow(/A100-80GB has no FP8/);
  });

  it('H200 decodes faster than H100 (bandwidth), A100 prefills slower (FLOPs)', () => {
    const m = getModel('Llama-3-8B');
    const h100 = createCostModel({ gpu: H100, model: m });
    // Same coefficients: only the datasheets differ (same peak FLOPs, 1.43× the bandwidth).
    const h200 = createCostModel({ gpu: getGpu('H200'), model: m, coefficients: defaultCoefficients('H100') });
    const a100 = createCostModel({ gpu: getGpu('A100'), model: m });
    expect(h200.decodeStepSeconds(16, 2048)).toBeLessThan(h100.decodeStepSeconds(16, 2048) * 0.85);
    expect(h200.prefillSeconds(4096)).toBeCloseTo(h100.prefillSeconds(4096), 3);
    // By default each GPU is priced with its own calibration where it has one.
    expect(createCostModel({ gpu: getGpu('H200'), model: m }).coefficients.source).toMatch(/^H200 kernel calibration/);
    expect(a100.coefficients.source).toMatch(/^H100 kernel calibration/);
    expect(a100.prefillSeconds(4096) / h100.prefillSeconds(4096)).toBeGreaterThan(2.5);
    expect(h200.memory.kvBlocks(0.9)).toBeGreaterThan(h100.memory.kvBlocks(0.9) * 2);
  });
});
