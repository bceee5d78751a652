// Derives the default cost-model coefficients from measured H100 kernel timings (graph-replayed
// rows of shared/calibration/h100-kernels.csv); `servelab sim calibrate` writes simulator/calibration/h100.json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../core/errors.ts';
import { type Coefficients, type OpCoefficients, type OpFamily, coefficientsToJson, priorCoefficients } from './coefficients.ts';
import { type GpuSpec, getGpu } from './hardware.ts';

export interface KernelRow {
  op: string;
  model: string;
  T: number;
  B: number;
  ctx: number;
  flops: number;
  bytes: number;
  ms: number;
  line: number;
}

/** CSV op name → cost-model family (the `_eager` rows are kept apart). */
export const CSV_FAMILY: Record<string, OpFamily> = {
  gemm_qkv: 'gemm_qkv',
  gemm_o: 'gemm_o',
  gemm_gate_up: 'gemm_gate_up',
  gemm_down: 'gemm_down',
  gemm_lm_head: 'lm_head',
  attn_decode: 'attn_decode',
  attn_prefill: 'attn_prefill',
  moe_expert_ffn: 'moe_expert',
};
const GEMM_OPS = ['gemm_qkv', 'gemm_o', 'gemm_gate_up', 'gemm_down', 'gemm_lm_head'];
const COLUMNS = ['op', 'model', 'T', 'B', 'ctx', 'flops', 'bytes', 'ms'] as const;

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where the measurements live beside the repository (absent at run time is fine: the result is committed). */
export const KERNEL_CSV = path.resolve(here, '..', '..', 'shared', 'calibration', 'h100-kernels.csv');

export function parseKernelCsv(text: string, file = 'h100-kernels.csv'): KernelRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',') ?? [];
  COLUMNS.forEach((c, i) => {
    if (header[i] !== c) throw inputError(`${file}:1`, c, `expected column ${i + 1} to be '${c}', found '${header[i] ?? ''}'`);
  });
  return lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    const num = (j: number): number => {
      const v = Number(cells[j]);
      if (cells[j] === undefined || cells[j] === '' || !Number.isFinite(v)) throw inputError(`${file}:${i + 2}`, COLUMNS[j], `'${cells[j] ?? ''}' is not a number`);
      return v;
    };
    return { op: cells[0]!, model: cells[1]!, T: num(2), B: num(3), ctx: num(4), flops: num(5), bytes: num(6), ms: num(7), line: i + 2 };
  });
}

/** Seconds of one call: latency + p-norm join of compute and memory time (the cost model's op formula). */
export function opSeconds(k: OpCoefficients, knee: number, flops: number, bytes: number, peak: number, bw: number): number {
  const tc = flops / (k.etaFlop * peak);
  const tm = bytes / (k.etaMem * bw);
  const hi = Math.max(tc, tm);
  const join = !Number.isFinite(knee) || hi === 0 ? hi : hi * Math.pow(1 + Math.pow(Math.min(tc, tm) / hi, knee), 1 / knee);
  return k.latency + join;
}

/** Nelder–Mead on an unconstrained vector (deterministic; small problems only). */
export function nelderMead(f: (x: number[]) => number, x0: number[], step = 0.1, iterations = 400): number[] {
  const n = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + step : v)))].map((x) => ({ x, y: f(x) }));
  const comb = (a: number[], b: number[], t: number) => a.map((v, i) => v + t * (b[i]! - v));
  for (let it = 0; it < iterations; it++) {
    simplex.sort((a, b) => a.y - b.y);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const centroid = x0.map((_, i) => simplex.slice(0, n).reduce((s, p) => s + p.x[i]!, 0) / n);
    const xr = comb(centroid, worst.x, -1);
    const yr = f(xr);
    if (yr < best.y) {
      const xe = comb(centroid, worst.x, -2);
      const ye = f(xe);
      simplex[n] = ye < yr ? { x: xe, y: ye } : { x: xr, y: yr };
    } else if (yr < simplex[n - 1]!.y) {
      simplex[n] = { x: xr, y: yr };
    } else {
      const xc = comb(centroid, worst.x, 0.5);
      const yc = f(xc);
      if (yc < worst.y) simplex[n] = { x: xc, y: yc };
      else simplex = simplex.map((p, i) => (i === 0 ? p : { x: comb(best.x, p.x, 0.5), y: f(comb(best.x, p.x, 0.5)) }));
    }
  }
  simplex.sort((a, b) => a.y - b.y);
  return simplex[0]!.x;
}

export interface FamilyFit {
  family: OpFamily;
  points: number;
  medianAbsPctError: number;
  maxAbsPctError: number;
}

export interface Calibration {
  description: string;
  gpu: string;
  input: { file: string; sha256: string; graphRows: number; eagerRows: number };
  ceilings: { hbmCopyTBps: number; hbmReadTBps: number; matmulTflops: number; matmulSustainedTflops: number };
  /** Median extra seconds per call of eager launch over graph replay, for ops under 20 µs. */
  eagerExtraSecondsSmallOps: number;
  fit: FamilyFit[];
  coefficients: Coefficients;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Fits ops[family] and the knee to the graph rows; comm and overheads keep their priors (not measured here). */
export function calibrate(rows: KernelRow[], gpu: GpuSpec = getGpu('H100'), meta = { file: 'h100-kernels.csv', sha256: '' }): Calibration {
  const peak = gpu.bf16Tflops * 1e12;
  const bw = gpu.hbmTBps * 1e12;
  const graph = rows.filter((r) => r.op in CSV_FAMILY);
  const eager = rows.filter((r) => r.op.endsWith('_eager'));
  const machine = (op: string) => rows.find((r) => r.op === op);
  const rate = (op: string, field: 'flops' | 'bytes') => {
    const r = machine(op);
    return r ? r[field] / (r.ms / 1e3) : NaN;
  };

  // Shared GEMM call latency: flat (memory-bound, T ≤ 64) time against bytes, least squares over the GEMM families.
  const flat = graph.filter((r) => GEMM_OPS.includes(r.op) && r.T <= 64);
  const mx = flat.reduce((s, r) => s + r.bytes, 0) / flat.length;
  const my = flat.reduce((s, r) => s + r.ms / 1e3, 0) / flat.length;
  const slope = flat.reduce((s, r) => s + (r.bytes - mx) * (r.ms / 1e3 - my), 0) / flat.reduce((s, r) => s + (r.bytes - mx) ** 2, 0);
  const gemmLatency = Math.max(0, my - slope * mx);

  const byFamily = new Map<OpFamily, KernelRow[]>();
  for (const r of graph) {
    const fam = CSV_FAMILY[r.op]!;
    byFamily.set(fam, [...(byFamily.get(fam) ?? []), r]);
  }
  // Decode attention (4–8 FLOP/B) never reaches its compute roof, so its etaFlop keeps the prior.
  // Causal prefill attention streams Q/K/V/O tiles alongside its math: its two times add (knee 1).
  const prior = priorCoefficients().ops;
  const fitFamily = (fam: OpFamily, pts: KernelRow[], knee: number): { k: OpCoefficients; loss: number } => {
    const gemm = fam.startsWith('gemm_') || fam === 'lm_head';
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const unpack = (x: number[]): OpCoefficients => ({
      etaFlop: fam === 'attn_decode' ? prior.attn_decode.etaFlop : sigmoid(x[0]!),
      etaMem: sigmoid(x[1]!),
      latency: gemm ? gemmLatency : Math.exp(x[2]!) * 1e-6,
    });
    const k = prior[fam].knee ?? knee;
    const loss = (x: number[]) => pts.reduce((s, r) => s + Math.log(opSeconds(unpack(x), k, r.flops, r.bytes, peak, bw) / (r.ms / 1e3)) ** 2, 0);
    const x = nelderMead(loss, [0.85, 1.7, 1], 0.5, 600);
    const x2 = nelderMead(loss, x, 0.05, 400);
    return { k: { ...unpack(x2), ...(prior[fam].knee !== undefined ? { knee: prior[fam].knee } : {}) }, loss: loss(x2) };
  };

  let best: { knee: number; loss: number; ops: Map<OpFamily, OpCoefficients> } | undefined;
  for (const knee of [1.5, 2, 3, 4, 6, 8, Infinity]) {
    const ops = new Map<OpFamily, OpCoefficients>();
    let loss = 0;
    for (const [fam, pts] of byFamily) {
      const r = fitFamily(fam, pts, knee);
      ops.set(fam, r.k);
      loss += r.loss;
    }
    if (!best || loss < best.loss - 1e-12) best = { knee, loss, ops };
  }
  const coefficients = priorCoefficients();
  coefficients.source = `H100 kernel calibration (${meta.file})`;
  coefficients.knee = best!.knee;
  const round = (v: number) => Number(v.toPrecision(6));
  for (const [fam, k] of best!.ops) coefficients.ops[fam] = { etaFlop: round(k.etaFlop), etaMem: round(k.etaMem), latency: round(k.latency), ...(k.knee !== undefined ? { knee: k.knee } : {}) };

  const fit: FamilyFit[] = [...byFamily].map(([fam, pts]) => {
    const errs = pts.map((r) => Math.abs(opSeconds(coefficients.ops[fam], coefficients.ops[fam].knee ?? coefficients.knee, r.flops, r.bytes, peak, bw) / (r.ms / 1e3) - 1) * 100);
    return { family: fam, points: pts.length, medianAbsPctError: round(median(errs)), maxAbsPctError: round(Math.max(...errs)) };
  });
  const graphMs = new Map(graph.map((r) => [`${r.op}|${r.model}|${r.T}|${r.B}|${r.ctx}`, r.ms]));
  const extra = eager
    .map((r) => ({ r, g: graphMs.get(`${r.op.replace(/_eager$/, '')}|${r.model}|${r.T}|${r.B}|${r.ctx}`) }))
    .filter((x) => x.g !== undefined && x.g < 0.02)
    .map((x) => (x.r.ms - x.g!) / 1e3);
  return {
    description:
      'Default cost-model coefficients derived by simulator/calibrate.ts from graph-replayed H100 kernel timings. ' +
      'GEMM families share one call latency (least squares of flat time against bytes); each family fits etaFlop/etaMem ' +
      '(and latency for attention and MoE) by log-error Nelder–Mead; the knee is chosen from a grid (prefill attention adds its compute and memory time: knee 1). Communication and ' +
      'overheads are not in the measurements and keep their priors (simulation.md §3). The Qwen3-32B hold-out is not in the input.',
    gpu: gpu.name,
    input: { file: meta.file, sha256: meta.sha256, graphRows: graph.length, eagerRows: eager.length },
    ceilings: {
      hbmCopyTBps: round(rate('hbm_copy', 'bytes') / 1e12),
      hbmReadTBps: round(rate('hbm_read', 'bytes') / 1e12),
      matmulTflops: round(rate('matmul_8192', 'flops') / 1e12),
      matmulSustainedTflops: round(rate('matmul_8192_sustained', 'flops') / 1e12),
    },
    eagerExtraSecondsSmallOps: round(extra.length ? median(extra) : 0),
    fit,
    coefficients,
  };
}

export function calibrateFile(csvFile: string = KERNEL_CSV): Calibration {
  const text = fs.readFileSync(csvFile, 'utf8');
  const sha256 = createHash('sha256').update(text).digest('hex');
  return calibrate(parseKernelCsv(text, csvFile), getGpu('H100'), { file: 'shared/calibration/h100-kernels.csv', sha256 });
}

export function calibrationJson(c: Calibration): string {
  return JSON.stringify({ ...c, coefficients: coefficientsToJson(c.coefficients) }, null, 2) + '\n';
}
