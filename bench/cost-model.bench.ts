// Cost model against the measured H100 kernel timings: the error at every measured point through
// the full cost model (not the fitting formula), per op family, the worked example, and pricing speed.
import fs from 'node:fs';
import { formatTable } from '../core/output.ts';
import { KERNEL_CSV, type KernelRow, parseKernelCsv } from '../simulator/calibrate.ts';
import { createCostModel, decodeShape, prefillShape, type FullCostModel } from '../simulator/cost-model.ts';
import { getGpu } from '../simulator/hardware.ts';
import { getModel } from '../simulator/models.ts';
import type { BatchShape } from '../simulator/types.ts';

const H100 = getGpu('H100');
const llama = createCostModel({ gpu: H100, model: getModel('Llama-3-8B') });
const qwen = createCostModel({ gpu: H100, model: getModel('Qwen3-32B') });
/** Qwen3-32B kernels measured on an H100 by bench/gpu/measure_kernels.py: shapes the coefficients were not fitted on. */
const HOLDOUT_CSV = new URL('./data/h100-qwen3-32b.csv', import.meta.url);
// Mixtral's 93 GB do not fit one H100; the per-expert points only need its shapes, so relax the capacity.
const mixtral = createCostModel({ gpu: { ...H100, hbmGB: 1000 }, model: getModel('Mixtral-8x7B') });

/** The cost model's time for one call of the measured op: one layer's share of the step's op. */
function modelSeconds(r: KernelRow): number | undefined {
  const base = r.op.replace(/_eager$/, '');
  const perLayer = (cm: FullCostModel, shape: BatchShape, component: string) => {
    const op = cm.details(shape).ops.find((o) => o.component === component);
    return op ? op.seconds / op.calls : undefined;
  };
  const dense = r.model === 'Qwen3-32B' ? qwen : llama;
  switch (base) {
    case 'gemm_qkv': return perLayer(dense, decodeShape(r.T, 0), 'qkv_proj');
    case 'gemm_o': return perLayer(dense, decodeShape(r.T, 0), 'o_proj');
    case 'gemm_gate_up': return perLayer(dense, decodeShape(r.T, 0), 'gate_up_proj');
    case 'gemm_down': return perLayer(dense, decodeShape(r.T, 0), 'down_proj');
    case 'gemm_lm_head': return perLayer(dense, decodeShape(r.T, 0), 'lm_head');
    case 'attn_decode': return perLayer(dense, decodeShape(r.B, r.ctx), 'attn_decode');
    case 'attn_prefill': return perLayer(dense, prefillShape(r.T), 'attn_prefill');
    case 'moe_expert_ffn': {
      // One expert receiving T_e tokens: T_e/top_k tokens in the step, all routed to one expert.
      const k = mixtral.model.moe!.topK;
      const shape = { ...decodeShape(r.T / k, 0), moe: { distinctExperts: 1, maxRankTokens: r.T, maxExpertTokens: r.T } };
      return perLayer(mixtral, shape, 'moe_experts');
    }
    default: return undefined;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function perPoint(rows: KernelRow[]): void {
  const graph = rows.filter((r) => !r.op.endsWith('_eager') && modelSeconds(r) !== undefined);
  const eager = rows.filter((r) => r.op.endsWith('_eager') && modelSeconds(r) !== undefined);
  const point = (r: KernelRow) => {
    const m = modelSeconds(r)! * 1e3;
    return { r, model: m, err: (m / r.ms - 1) * 100 };
  };
  const g = graph.map(point);
  console.log('Every measured graph-replayed point (model = cost model op time per layer call; err = model/measured − 1):');
  console.log(formatTable(['op', 'T', 'B', 'ctx', 'measured_us', 'model_us', 'err_pct'], g.map((p) => [p.r.op, p.r.T, p.r.B, p.r.ctx, Number((p.r.ms * 1e3).toFixed(2)), Number((p.model * 1e3).toFixed(2)), Number(p.err.toFixed(1))])));
  const families = [...new Set(g.map((p) => p.r.op))];
  const summary = (pts: ReturnType<typeof point>[], fam: string) => {
    const e = pts.filter((p) => p.r.op.replace(/_eager$/, '') === fam).map((p) => Math.abs(p.err));
    return [fam, e.length, Number(median(e).toFixed(1)), Number(Math.max(...e).toFixed(1))];
  };
  console.log('\nPer op family, graph rows (the calibration input):');
  console.log(formatTable(['family', 'points', 'median_abs_err_pct', 'max_abs_err_pct'], families.map((f) => summary(g, f))));
  const all = g.map((p) => Math.abs(p.err));
  console.log(`all graph points: n=${all.length}, median |err| ${median(all).toFixed(1)}%, max ${Math.max(...all).toFixed(1)}%`);
  const e = eager.map(point);
  console.log('\nPer op family, eager rows (not fitted: the model prices graph-captured kernels; eager adds host launch cost to small ops):');
  console.log(formatTable(['family', 'points', 'median_abs_err_pct', 'max_abs_err_pct'], families.map((f) => summary(e, f))));
  const m = (op: string) => rows.find((r) => r.op === op);
  const copy = m('hbm_copy');
  const read = m('hbm_read');
  const mm = m('matmul_8192_sustained');
  if (copy && read && mm) {
    console.log(
      `\nceilings: HBM copy ${(copy.bytes / copy.ms / 1e9).toFixed(2)} TB/s, read ${(read.bytes / read.ms / 1e9).toFixed(2)} TB/s (datasheet 3.35); ` +
        `matmul 8192³ sustained ${(mm.flops / mm.ms / 1e9).toFixed(0)} TFLOP/s (datasheet 989.4)`,
    );
  }
}

function workedExample(): void {
  const cm = createCostModel({ gpu: H100, model: getModel('Llama-3-70B'), tp: 4 });
  const e = cm.explain(decodeShape(64, 2048));
  console.log('\nWorked example (simulation.md §3): Llama-3-70B, TP4, H100, decode B=64 at ctx 2048');
  console.log(e.text);
  const ms = (s: number) => `${(s * 1e3).toFixed(2)} ms`;
  const gemmMem = e.ops.filter((o) => /proj|lm_head/.test(o.component)).reduce((s, o) => s + o.memorySeconds, 0);
  const gemmCompute = e.ops.filter((o) => /proj|lm_head/.test(o.component)).reduce((s, o) => s + o.computeSeconds, 0);
  const kv = e.ops.find((o) => o.component === 'attn_decode')!;
  const ar = e.ops.find((o) => o.component === 'tp_allreduce')!;
  console.log(
    formatTable(
      ['component', 'simulation.md', 'this model'],
      [
        ['weights (GEMM memory time)', '10.4 ms at 3.35 TB/s', `${ms(gemmMem)} at calibrated η_mem (GEMM op time ${ms(e.cost.breakdown.gemm! + e.cost.breakdown.lm_head!)})`],
        ['KV reads', '3.2 ms', `${ms(kv.memorySeconds)} memory time; op ${ms(kv.seconds)}`],
        ['compute', '2.3 ms', `${ms(gemmCompute + kv.computeSeconds)}`],
        ['all-reduces', '160 × ~41 µs ≈ 6.6 ms', `${ar.calls} × ${((ar.seconds / ar.calls) * 1e6).toFixed(1)} µs = ${ms(ar.seconds)}`],
        ['overheads', '(not in the example)', ms(e.cost.breakdown.overhead!)],
        ['step', '—', `${ms(e.cost.seconds)} (${e.cost.bottleneck})`],
      ],
    ),
  );
}

/** Out-of-sample check: Qwen3-32B kernels (other GEMM shapes, 64 query heads) the coefficients never saw. */
function holdOut(): void {
  const rows = parseKernelCsv(fs.readFileSync(HOLDOUT_CSV, 'utf8'), 'bench/data/h100-qwen3-32b.csv');
  const pts = rows.filter((r) => modelSeconds(r) !== undefined).map((r) => ({ r, err: ((modelSeconds(r)! * 1e3) / r.ms - 1) * 100 }));
  console.log('\nHold-out: Qwen3-32B on H100 (bench/data/h100-qwen3-32b.csv, measured like the calibration set; not used for fitting)');
  console.log(
    formatTable(
      ['op', 'T', 'B', 'ctx', 'measured_us', 'model_us', 'err_pct'],
      pts.map((p) => [p.r.op, p.r.T, p.r.B, p.r.ctx, Number((p.r.ms * 1e3).toFixed(2)), Number((modelSeconds(p.r)! * 1e6).toFixed(2)), Number(p.err.toFixed(1))]),
    ),
  );
  const families = [...new Set(pts.map((p) => p.r.op))];
  console.log(
    formatTable(
      ['family', 'points', 'median_abs_err_pct', 'max_abs_err_pct'],
      families.map((f) => {
        const e = pts.filter((p) => p.r.op === f).map((p) => Math.abs(p.err));
        return [f, e.length, Number(median(e).toFixed(1)), Number(Math.max(...e).toFixed(1))];
      }),
    ),
  );
  const all = pts.map((p) => Math.abs(p.err));
  console.log(`all hold-out points: n=${all.length}, median |err| ${median(all).toFixed(1)}%, max ${Math.max(...all).toFixed(1)}%`);
}

function speed(): void {
  const shapes: BatchShape[] = Array.from({ length: 1024 }, (_, i) => ({ prefillSeqs: i % 3 ? 0 : 1, prefillTokens: i % 3 ? 0 : 256 + (i % 512), prefillAttnWork: i % 3 ? 0 : 40_000, decodeSeqs: i % 256, decodeCtxSum: (i % 256) * 1500 }));
  const moe = createCostModel({ gpu: H100, model: getModel('Qwen3-30B-A3B') });
  for (const [name, cm] of [['Llama-3-8B', llama], ['Qwen3-30B-A3B', moe]] as const) {
    let x = 0;
    const n = 1_000_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) x += cm.stepTime(shapes[i & 1023]!).seconds;
    const dt = (performance.now() - t0) / 1e3;
    console.log(`stepTime speed (${name}): ${(n / dt / 1e6).toFixed(2)} M calls/s (${((dt / n) * 1e9).toFixed(0)} ns/call; checksum ${x.toFixed(3)})`);
  }
}

console.log('Cost model vs H100 kernel timings (../shared/calibration/h100-kernels.csv), coefficients: simulator/calibration/h100.json\n');
if (fs.existsSync(KERNEL_CSV)) perPoint(parseKernelCsv(fs.readFileSync(KERNEL_CSV, 'utf8'), KERNEL_CSV));
else console.log(`(${KERNEL_CSV} not found: per-point errors skipped)`);
workedExample();
holdOut();
console.log('');
speed();
