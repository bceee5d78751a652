// Derives a GPU's default cost-model coefficients from measured timings: kernel rows (graph-replayed,
// shared/calibration/h100-kernels.csv for the H100, bench/data/<gpu>-kernels.csv otherwise) fit the op
// families; paired graph/eager rows fit the launch term; collectives rows (bench/gpu/measure_collectives.py,
// 2+ GPUs) fit the comm terms; whole-step rows (bench/gpu/measure_step.py) check the sum of the per-op
// model against real steps. `servelab sim calibrate --gpu NAME` writes simulator/calibration/<gpu>.json.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../core/errors.ts';
import { type Coefficients, type OpCoefficients, type OpFamily, coefficientsToJson, priorCoefficients } from './coefficients.ts';
import { createCostModel, decodeShape, prefillShape } from './cost-model.ts';
import { type GpuSpec, getGpu } from './hardware.ts';
import { getModel } from './models.ts';
import type { BatchShape } from './types.ts';

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
  /** Layers run (measure_step.py's `layers` column), where the file has one. */
  layers?: number;
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
  const layersAt = header.indexOf('layers');
  return lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    const num = (j: number): number => {
      const v = Number(cells[j]);
      if (cells[j] === undefined || cells[j] === '' || !Number.isFinite(v)) throw inputError(`${file}:${i + 2}`, COLUMNS[j], `'${cells[j] ?? ''}' is not a number`);
      return v;
    };
    const row: KernelRow = { op: cells[0]!, model: cells[1]!, T: num(2), B: num(3), ctx: num(4), flops: num(5), bytes: num(6), ms: num(7), line: i + 2 };
    if (layersAt >= 0) {
      const v = Number(cells[layersAt]);
      if (!Number.isInteger(v) || v < 0) throw inputError(`${file}:${i + 2}`, 'layers', `'${cells[layersAt] ?? ''}' is not a whole number`);
      row.layers = v;
    }
    return row;
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

/** Launch term: an eager call lasts max(graph time + gap, host); fitted on paired graph/eager rows. */
export interface LaunchFit {
  /** The bare launch floor (all families without their own). */
  hostSeconds: number;
  gapSeconds: number;
  /** Host seconds to issue one call of each op family measured with 3+ pairs. */
  perFamily: Partial<Record<OpFamily, number>>;
  points: number;
  medianAbsPctError: number;
  maxAbsPctError: number;
  /** The same pairs priced without a launch term (eager = graph time). */
  withoutTerm: { medianAbsPctError: number; maxAbsPctError: number };
}

export interface ErrorSummary {
  points: number;
  medianAbsPctError: number;
  maxAbsPctError: number;
}

/** One collective's α–β fit: t = alpha + wire bytes / (bwFraction · NVLink per direction). */
export interface CommFit {
  op: 'allreduce' | 'all2all';
  alpha: number;
  bwFraction: number;
  gpus: number[];
  byClass: ({ sizeClass: string } & ErrorSummary)[];
  all: ErrorSummary;
}

/** A whole measured step against the cost model's price of it. */
export interface StepCheck {
  op: string;
  model: string;
  layers: number;
  T: number;
  B: number;
  ctx: number;
  measuredMs: number;
  modelMs: number;
  /** The model without its overhead term (the sum of the priced ops). */
  opsOnlyMs: number;
  errPct: number;
  opsOnlyErrPct: number;
}

export interface Calibration {
  description: string;
  gpu: string;
  input: { file: string; sha256: string; graphRows: number; eagerRows: number };
  /** Further measurement files (steps, launch, collectives) and their digests. */
  inputs: { file: string; sha256: string; rows: number }[];
  ceilings: { hbmCopyTBps: number; hbmReadTBps: number; matmulTflops: number; matmulSustainedTflops: number };
  /** Median extra seconds per call of eager launch over graph replay, for ops under 20 µs. */
  eagerExtraSecondsSmallOps: number;
  fit: FamilyFit[];
  launch: LaunchFit | null;
  /** Comm fits; empty where no run on 2+ GPUs was measured (the comm terms keep their priors). */
  comm: CommFit[];
  /** Whole steps against the model: graph-captured against the default model, `_priced` (only the priced ops) against the ops sum, eager against --eager. */
  steps: { graph: ErrorSummary; graphOpsOnly: ErrorSummary; priced: ErrorSummary; eager: ErrorSummary; rows: StepCheck[] } | null;
  coefficients: Coefficients;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface ExtraInputs {
  /** measure_step.py rows: whole steps and launch rows. */
  steps?: KernelRow[];
  /** measure_collectives.py rows. */
  collectives?: KernelRow[];
  inputs?: Calibration['inputs'];
  stepsFile?: string;
  collectivesFiles?: string[];
}

/** Fits ops[family] and the knee to the graph rows, the launch term to graph/eager pairs, comm terms to 2+-GPU collectives; overheads keep their priors. */
export function calibrate(rows: KernelRow[], gpu: GpuSpec = getGpu('H100'), meta = { file: 'h100-kernels.csv', sha256: '' }, extra: ExtraInputs = {}): Calibration {
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
  coefficients.source = `${gpu.name} kernel calibration (${meta.file})`;
  coefficients.knee = best!.knee;
  const measured = `measured (${meta.file})`;
  coefficients.sources.knee = measured;
  const round = (v: number) => Number(v.toPrecision(6));
  for (const [fam, k] of best!.ops) {
    coefficients.ops[fam] = { ...coefficients.ops[fam], etaFlop: round(k.etaFlop), etaMem: round(k.etaMem), latency: round(k.latency), ...(k.knee !== undefined ? { knee: k.knee } : {}) };
    coefficients.sources[`ops.${fam}`] = measured;
  }
  const launchRows = [...rows, ...(extra.steps ?? []).filter((r) => r.op.startsWith('launch_'))];
  const launch = fitLaunch(launchRows);
  if (launch) {
    coefficients.launch = { hostSeconds: launch.hostSeconds, gapSeconds: launch.gapSeconds };
    for (const [fam, h] of Object.entries(launch.perFamily)) coefficients.ops[fam as OpFamily].launchHost = h;
    coefficients.sources.launch = `measured (${meta.file}${extra.steps?.some((r) => r.op.startsWith('launch_')) ? ` + ${extra.stepsFile}` : ''}: graph vs eager pairs)`;
  }
  const comm = fitCollectives(extra.collectives ?? [], gpu);
  for (const f of comm) {
    const where = `measured (${(extra.collectivesFiles ?? []).join(' + ')}: ${f.gpus.join('/')} GPUs)`;
    if (f.op === 'allreduce') {
      coefficients.comm.allreduceAlpha = f.alpha;
      coefficients.comm.allreduceBwFraction = f.bwFraction;
      coefficients.sources['comm.allreduce'] = where;
    } else {
      coefficients.comm.all2allAlpha = f.alpha;
      coefficients.comm.all2allBwFraction = f.bwFraction;
      coefficients.sources['comm.all2all'] = where;
    }
  }

  const fit: FamilyFit[] = [...byFamily].map(([fam, pts]) => {
    const errs = pts.map((r) => Math.abs(opSeconds(coefficients.ops[fam], coefficients.ops[fam].knee ?? coefficients.knee, r.flops, r.bytes, peak, bw) / (r.ms / 1e3) - 1) * 100);
    return { family: fam, points: pts.length, medianAbsPctError: round(median(errs)), maxAbsPctError: round(Math.max(...errs)) };
  });
  const graphMs = new Map(graph.map((r) => [`${r.op}|${r.model}|${r.T}|${r.B}|${r.ctx}`, r.ms]));
  const extraSmall = eager
    .map((r) => ({ r, g: graphMs.get(`${r.op.replace(/_eager$/, '')}|${r.model}|${r.T}|${r.B}|${r.ctx}`) }))
    .filter((x) => x.g !== undefined && x.g < 0.02)
    .map((x) => (x.r.ms - x.g!) / 1e3);
  return {
    description:
      `Default cost-model coefficients derived by simulator/calibrate.ts from graph-replayed ${gpu.name} kernel timings. ` +
      'GEMM families share one call latency (least squares of flat time against bytes); each family fits etaFlop/etaMem ' +
      '(and latency for attention and MoE) by log-error Nelder–Mead; the knee is chosen from a grid (prefill attention adds its compute and memory time: knee 1). ' +
      'The launch term (an eager call lasts max(graph time + gap, host)) is fitted by log-error Nelder–Mead on the paired graph/eager rows: one gap, a host cost per op family with 3+ pairs (ops.*.launchHost), the bare launch floor from launch_add rows. ' +
      (comm.length
        ? 'Comm α and bandwidth fractions are fitted (relative-error least squares) on the graph-captured collectives of 2+ GPUs. '
        : 'Communication keeps its priors (no collectives on 2+ GPUs were measured). ') +
      'Overheads keep their priors (simulation.md §3); whole measured steps, where given, are a check (steps), not an input of the fit. The Qwen3-32B hold-out is not in the input.',
    gpu: gpu.name,
    input: { file: meta.file, sha256: meta.sha256, graphRows: graph.length, eagerRows: eager.length },
    inputs: extra.inputs ?? [],
    ceilings: {
      hbmCopyTBps: round(rate('hbm_copy', 'bytes') / 1e12),
      hbmReadTBps: round(rate('hbm_read', 'bytes') / 1e12),
      matmulTflops: round(rate('matmul_8192', 'flops') / 1e12),
      matmulSustainedTflops: round(rate('matmul_8192_sustained', 'flops') / 1e12),
    },
    eagerExtraSecondsSmallOps: round(extraSmall.length ? median(extraSmall) : 0),
    fit,
    launch,
    comm,
    steps: extra.steps?.some((r) => r.op.startsWith('step_')) ? checkSteps(extra.steps, gpu, coefficients) : null,
    coefficients,
  };
}

const errSummary = (errs: number[]): ErrorSummary => {
  const r = (v: number) => Number(v.toPrecision(6));
  return { points: errs.length, medianAbsPctError: errs.length ? r(median(errs)) : 0, maxAbsPctError: errs.length ? r(Math.max(...errs)) : 0 };
};
const rowKey = (op: string, r: KernelRow) => `${op}|${r.model}|${r.T}|${r.B}|${r.ctx}|${r.layers ?? ''}`;

/** Predicted eager seconds of a call whose graph-replayed time is `graph`. */
export const eagerSeconds = (graph: number, hostSeconds: number, gapSeconds: number) => Math.max(graph + gapSeconds, hostSeconds);

/** The op family whose launch a kernel row measures (launch_add: the bare launch floor, 'machine'). */
const launchGroup = (op: string): OpFamily | 'machine' | undefined => (op.startsWith('launch_') ? 'machine' : CSV_FAMILY[op]);

/**
 * Fits the launch term on every kernel row X with a matching X_eager row (whole steps and collectives
 * left out): eager = max(graph + gap, host), log error. One gap for all; a host cost per op family with
 * 3+ pairs, 2+ of them host-bound (a linear call from Python costs more to issue than an add); the global host is the bare
 * launch floor (launch_add rows) or, without those, the fit of all pairs. Null with fewer than 4 pairs.
 */
export function fitLaunch(rows: KernelRow[]): LaunchFit | null {
  const graph = new Map(rows.filter((r) => !r.op.endsWith('_eager')).map((r) => [rowKey(r.op, r), r.ms / 1e3]));
  const pairs = rows
    .filter((r) => r.op.endsWith('_eager') && launchGroup(r.op.replace(/_eager$/, '')) !== undefined)
    .map((r) => ({ group: launchGroup(r.op.replace(/_eager$/, ''))!, eager: r.ms / 1e3, graph: graph.get(rowKey(r.op.replace(/_eager$/, ''), r)) }))
    .filter((p): p is { group: OpFamily | 'machine'; eager: number; graph: number } => p.graph !== undefined && p.graph > 0 && p.eager > 0);
  if (pairs.length < 4) return null;
  const us = (v: number) => Math.exp(v) * 1e-6;
  const lossOf = (ps: typeof pairs, host: number, gap: number) => ps.reduce((sum, p) => sum + Math.log(eagerSeconds(p.graph, host, gap) / p.eager) ** 2, 0);
  const groups = new Map<OpFamily | 'machine', typeof pairs>();
  for (const p of pairs) groups.set(p.group, [...(groups.get(p.group) ?? []), p]);
  // A group's host cost shows only where its calls are host-bound (eager well over graph); elsewhere it is unidentified.
  const own = [...groups].filter(([, ps]) => ps.length >= 3 && ps.filter((p) => p.eager > 1.25 * p.graph).length >= 2);
  const bestHost = (ps: typeof pairs, gap: number, start: number) => us(nelderMead(([h]) => lossOf(ps, us(h!), gap), [Math.log(start * 1e6)], 0.5, 120)[0]!);
  // Outer: the shared gap; inner: each group's host given that gap.
  const fitGiven = (gap: number) => {
    const hosts = new Map(own.map(([g, ps]) => [g, bestHost(ps, gap, 15e-6)]));
    const loss = pairs.reduce((sum, p) => sum + lossOf([p], hosts.get(p.group) ?? 0, gap), 0);
    return { hosts, loss };
  };
  const gap = us(nelderMead(([g]) => fitGiven(us(g!)).loss, [Math.log(3)], 0.5, 80)[0]!);
  const { hosts } = fitGiven(gap);
  const machine = hosts.get('machine') ?? bestHost(pairs, gap, 20e-6);
  const round = (v: number) => Number(v.toPrecision(6));
  const hostOf = (g: OpFamily | 'machine') => hosts.get(g) ?? machine;
  const errs = pairs.map((p) => Math.abs(eagerSeconds(p.graph, hostOf(p.group), gap) / p.eager - 1) * 100);
  const none = errSummary(pairs.map((p) => Math.abs(p.graph / p.eager - 1) * 100));
  const perFamily: Partial<Record<OpFamily, number>> = {};
  for (const [g, h] of hosts) if (g !== 'machine') perFamily[g] = round(h);
  return {
    hostSeconds: round(machine),
    gapSeconds: round(gap),
    perFamily,
    ...errSummary(errs),
    withoutTerm: { medianAbsPctError: none.medianAbsPctError, maxAbsPctError: none.maxAbsPctError },
  };
}

/** Size classes of the comm error summary, by message bytes per rank. */
export const SIZE_CLASSES = [
  { sizeClass: '4KiB-64KiB', max: 64 * 1024 },
  { sizeClass: '64KiB-8MiB', max: 8 * 1024 * 1024 },
  { sizeClass: '8MiB-1GiB', max: Infinity },
] as const;

/**
 * Fits alpha and the bandwidth fraction of all-reduce (ring: 2(n−1)/n of the message on the wire)
 * and all-to-all (even splits: (n−1)/n) to the graph-captured rows of 2+ GPUs, minimizing relative
 * error (linear least squares in alpha and 1/bandwidth, both kept ≥ 0). One GPU moves nothing over
 * NVLink: its rows are a smoke check only and fit nothing.
 */
export function fitCollectives(rows: KernelRow[], gpu: GpuSpec): CommFit[] {
  const link = (gpu.nvlinkGBps / 2) * 1e9;
  const out: CommFit[] = [];
  for (const op of ['allreduce', 'all2all'] as const) {
    const pts = rows.filter((r) => r.op === op && r.B >= 2 && r.ms > 0);
    if (pts.length < 3) continue;
    const wire = (r: KernelRow) => ((op === 'allreduce' ? 2 : 1) * (r.B - 1) * r.bytes) / r.B;
    // minimize Σ((α + w·β)/t − 1)²: normal equations of rows [1/t, w/t] against 1.
    let s11 = 0, s12 = 0, s22 = 0, b1 = 0, b2 = 0;
    for (const r of pts) {
      const t = r.ms / 1e3;
      const a = 1 / t, b = wire(r) / t;
      s11 += a * a; s12 += a * b; s22 += b * b; b1 += a; b2 += b;
    }
    const det = s11 * s22 - s12 * s12;
    let alpha = (b1 * s22 - b2 * s12) / det;
    let beta = (s11 * b2 - s12 * b1) / det;
    if (alpha < 0) { alpha = 0; beta = b2 / s22; }
    if (beta <= 0) { beta = 1e-15; alpha = b1 / s11; }
    const round = (v: number) => Number(v.toPrecision(6));
    const predict = (r: KernelRow) => alpha + wire(r) * beta;
    const err = (r: KernelRow) => Math.abs(predict(r) / (r.ms / 1e3) - 1) * 100;
    let lo = 0;
    const byClass = SIZE_CLASSES.map((c) => {
      const inClass = pts.filter((r) => r.bytes > lo && r.bytes <= c.max);
      lo = c.max;
      return { sizeClass: c.sizeClass, ...errSummary(inClass.map(err)) };
    });
    out.push({ op, alpha: round(alpha), bwFraction: round(1 / (beta * link)), gpus: [...new Set(pts.map((r) => r.B))].sort((a, b) => a - b), byClass, all: errSummary(pts.map(err)) });
  }
  return out;
}

/** The cost model's price of one measured whole step (`layers` of the model, fixed balanced MoE routing). */
export function stepPrice(r: KernelRow, gpu: GpuSpec, c: Coefficients): { seconds: number; opsOnly: number } {
  const base = getModel(r.model);
  const layers = r.layers && r.layers > 0 ? r.layers : base.layers;
  const model = { ...base, layers, ...(base.moe ? { moe: { ...base.moe, moeLayers: layers } } : {}) };
  const eager = r.op.endsWith('_eager');
  const cm = createCostModel({ gpu, model, coefficients: c, eager });
  const decode = r.op.startsWith('step_decode');
  const shape: BatchShape = decode ? decodeShape(r.B, r.ctx) : prefillShape(r.T);
  if (model.moe) {
    // measure_step.py routes token t to experts (tK+k) mod E: every expert hit equally.
    const { experts: E, topK: K } = model.moe;
    shape.moe = { distinctExperts: Math.min(E, r.T * K), maxExpertTokens: Math.ceil((r.T * K) / E), maxRankTokens: r.T * K };
  }
  const cost = cm.stepTime(shape);
  return { seconds: cost.seconds, opsOnly: cost.seconds - (cost.breakdown.overhead ?? 0) };
}

/**
 * Whole measured steps against the model: graph-captured rows against the default (graph) model,
 * `_priced` rows (only the ops the model prices) against the model without its overhead term, and
 * `_eager` rows against eager pricing (the launch term).
 */
export function checkSteps(rows: KernelRow[], gpu: GpuSpec, c: Coefficients): NonNullable<Calibration['steps']> {
  const round = (v: number) => Number(v.toPrecision(6));
  const checks: StepCheck[] = rows
    .filter((r) => r.op.startsWith('step_'))
    .map((r) => {
      const p = stepPrice(r, gpu, c);
      const ms = r.ms;
      return {
        op: r.op, model: r.model, layers: r.layers ?? 0, T: r.T, B: r.B, ctx: r.ctx,
        measuredMs: ms, modelMs: round(p.seconds * 1e3), opsOnlyMs: round(p.opsOnly * 1e3),
        errPct: round((p.seconds * 1e3 / ms - 1) * 100), opsOnlyErrPct: round((p.opsOnly * 1e3 / ms - 1) * 100),
      };
    });
  const kind = (x: StepCheck) => (x.op.endsWith('_eager') ? 'eager' : x.op.endsWith('_priced') ? 'priced' : 'graph');
  const of = (k: string) => checks.filter((x) => kind(x) === k);
  return {
    graph: errSummary(of('graph').map((x) => Math.abs(x.errPct))),
    graphOpsOnly: errSummary(of('graph').map((x) => Math.abs(x.opsOnlyErrPct))),
    priced: errSummary(of('priced').map((x) => Math.abs(x.opsOnlyErrPct))),
    eager: errSummary(of('eager').map((x) => Math.abs(x.errPct))),
    rows: checks,
  };
}

const repoRoot = path.resolve(here, '..');
/** A path as written in the calibration: relative to the repository, or to the folder beside it (shared/…). */
const label = (file: string) => path.relative(repoRoot, path.resolve(file)).replace(/^\.\.\//, '').split(path.sep).join('/');
const slug = (gpu: string) => gpu.toLowerCase().replace(/[^a-z0-9]+/g, '-');
export const BENCH_DATA = path.join(repoRoot, 'bench', 'data');

export interface CalibrationFiles {
  gpu: string;
  kernels: string;
  steps?: string;
  collectives: string[];
}

/** A GPU's default inputs: the shared H100 kernels or bench/data/<gpu>-kernels.csv, and bench/data/<gpu>-steps.csv and -collectives-*.csv where present. */
export function defaultInputs(gpuName: string): CalibrationFiles {
  const gpu = getGpu(gpuName).name;
  const s = slug(gpu);
  const steps = path.join(BENCH_DATA, `${s}-steps.csv`);
  const collectives = fs.existsSync(BENCH_DATA)
    ? fs.readdirSync(BENCH_DATA).filter((f) => f.startsWith(`${s}-collectives-`) && f.endsWith('.csv')).sort().map((f) => path.join(BENCH_DATA, f))
    : [];
  return {
    gpu,
    kernels: gpu === 'H100' ? KERNEL_CSV : path.join(BENCH_DATA, `${s}-kernels.csv`),
    ...(fs.existsSync(steps) ? { steps } : {}),
    collectives,
  };
}

function readCsv(file: string): { rows: KernelRow[]; sha256: string; label: string } {
  if (!fs.existsSync(file)) throw inputError(file, undefined, 'not found');
  const text = fs.readFileSync(file, 'utf8');
  return { rows: parseKernelCsv(text, file), sha256: createHash('sha256').update(text).digest('hex'), label: label(file) };
}

export function calibrateFiles(f: CalibrationFiles): Calibration {
  const k = readCsv(f.kernels);
  const steps = f.steps ? readCsv(f.steps) : undefined;
  const coll = f.collectives.map(readCsv);
  const inputs = [...(steps ? [steps] : []), ...coll].map((x) => ({ file: x.label, sha256: x.sha256, rows: x.rows.length }));
  return calibrate(k.rows, getGpu(f.gpu), { file: k.label, sha256: k.sha256 }, {
    steps: steps?.rows,
    collectives: coll.flatMap((x) => x.rows),
    inputs,
    ...(steps ? { stepsFile: steps.label } : {}),
    collectivesFiles: coll.map((x) => x.label),
  });
}

/** The H100 calibration from a kernel CSV (default: the shared one). */
export function calibrateFile(csvFile: string = KERNEL_CSV): Calibration {
  return calibrateFiles({ ...defaultInputs('H100'), kernels: csvFile });
}

export function calibrationJson(c: Calibration): string {
  return JSON.stringify({ ...c, coefficients: coefficientsToJson(c.coefficients) }, null, 2) + '\n';
}
