// Fits the cost model's linear coefficients (per-family multipliers, comm α, overheads) to measured
// step times or request timings by non-negative least squares on relative error, pulled toward the priors.
import fs from 'node:fs';
import { inputError } from '../core/errors.ts';
import { type Coefficients, OP_FAMILIES, type OpFamily } from './coefficients.ts';
import { type CostModelOptions, createCostModel, decodeShape, prefillShape } from './cost-model.ts';
import { nnls } from './nnls.ts';
import type { BatchShape } from './types.ts';

/** One equation: a step shape (or `steps` of them) took `seconds`. */
export interface StepSample {
  shape: BatchShape;
  seconds: number;
  /** Where it came from, for messages. */
  where: string;
}

/** The unknowns, in the order of the design matrix columns. */
export const TERMS = [
  ...OP_FAMILIES.map((f) => `scale.${f}` as const),
  'comm.allreduceAlpha',
  'scale.tp_allreduce_bw',
  'comm.all2allAlpha',
  'scale.ep_all2all_bw',
  'overhead.perLayer',
  'overhead.perStep',
  'overhead.perRequest',
  'overhead.perMoeStep',
] as const;
export type Term = (typeof TERMS)[number];

let currentWhere = '';
const num = (o: Record<string, unknown>, ...names: string[]): number | undefined => {
  for (const n of names) {
    const v = o[n];
    if (v === undefined || v === null || v === '') continue;
    const x = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(x)) throw inputError(currentWhere, n, `${JSON.stringify(v)} is not a number`);
    if (x < 0 && !n.endsWith('_ns')) throw inputError(currentWhere, n, `${x} is negative`);
    return x;
  }
  return undefined;
};

/**
 * Turns one sample object into step equations. Step rows: prefill_tokens, prefill_seqs,
 * decode_seqs (or decode_tokens), decode_ctx_sum (or decode_ctx), seconds | ms | start_ns/end_ns.
 * Request rows: prompt_tokens, output_tokens, ttft | ttft_ms | sent_ns/first_token_ns, tpot | tpot_ms |
 * last_token_ns, optional concurrency: TTFT ≈ one prefill of the prompt (light load), TPOT ≈ a decode
 * step at batch `concurrency` (default 1) and the mean context prompt + output/2.
 */
export function sampleEquations(o: Record<string, unknown>, where: string): StepSample[] {
  currentWhere = where;
  const seconds = num(o, 'seconds', 'step_seconds') ?? (num(o, 'ms', 'step_ms') ?? NaN) / 1e3;
  const span = num(o, 'end_ns') !== undefined && num(o, 'start_ns') !== undefined ? (num(o, 'end_ns')! - num(o, 'start_ns')!) / 1e9 / (num(o, 'steps') ?? 1) : NaN;
  const prefillTokens = num(o, 'prefill_tokens', 'prefillTokens');
  const decodeSeqs = num(o, 'decode_seqs', 'decodeSeqs', 'decode_tokens');
  if (prefillTokens !== undefined || decodeSeqs !== undefined) {
    const y = Number.isFinite(seconds) ? seconds : span;
    if (!(y > 0)) throw inputError(where, 'seconds', 'a step sample needs a positive seconds, ms or start_ns/end_ns');
    const p = prefillTokens ?? 0;
    const d = decodeSeqs ?? 0;
    const ps = num(o, 'prefill_seqs', 'prefillSeqs') ?? (p > 0 ? 1 : 0);
    const ctxSum = num(o, 'decode_ctx_sum', 'decodeCtxSum') ?? (num(o, 'decode_ctx', 'ctx') ?? NaN) * d;
    if (d > 0 && !Number.isFinite(ctxSum)) throw inputError(where, 'decode_ctx_sum', 'missing: give decode_ctx_sum or decode_ctx (mean cached tokens per decoding sequence)');
    const work = num(o, 'prefill_attn_work', 'prefillAttnWork') ?? (ps > 0 ? (p * p) / (2 * ps) : 0);
    return [{ shape: { prefillSeqs: ps, prefillTokens: p, prefillAttnWork: work, decodeSeqs: d, decodeCtxSum: d > 0 ? ctxSum : 0 }, seconds: y, where }];
  }
  // servelab request records: failed or cancelled requests carry no timings to fit.
  if (typeof o.status === 'string' && o.status !== 'ok') return [];
  const prompt = num(o, 'prompt_tokens', 'prompt_tokens_server', 'prompt_tokens_client');
  const output = num(o, 'output_tokens', 'output_tokens_server', 'output_tokens_client');
  if (prompt === undefined) throw inputError(where, 'prompt_tokens', 'missing: a sample is a step (prefill_tokens/decode_seqs, seconds) or a request (prompt_tokens, output_tokens, ttft, tpot)');
  const ns = (k: string) => num(o, k);
  const ttft = num(o, 'ttft', 'ttft_s') ?? (num(o, 'ttft_ms') !== undefined ? num(o, 'ttft_ms')! / 1e3 : ns('first_token_ns') !== undefined && ns('sent_ns') !== undefined ? (ns('first_token_ns')! - ns('sent_ns')!) / 1e9 : undefined);
  let tpot = num(o, 'tpot', 'tpot_s') ?? (num(o, 'tpot_ms') !== undefined ? num(o, 'tpot_ms')! / 1e3 : undefined);
  if (tpot === undefined && output !== undefined && output > 1 && ns('last_token_ns') !== undefined && ns('first_token_ns') !== undefined) {
    tpot = (ns('last_token_ns')! - ns('first_token_ns')!) / 1e9 / (output - 1);
  }
  if (ttft === undefined && tpot === undefined) throw inputError(where, 'ttft', 'missing: a request sample needs ttft (s), ttft_ms or sent_ns/first_token_ns, and/or tpot');
  const out: StepSample[] = [];
  if (ttft !== undefined && ttft > 0) out.push({ shape: prefillShape(prompt), seconds: ttft, where });
  if (tpot !== undefined && tpot > 0 && output !== undefined && output > 1) {
    const batch = Math.max(1, Math.round(num(o, 'concurrency', 'batch') ?? 1));
    out.push({ shape: decodeShape(batch, prompt + output / 2), seconds: tpot, where });
  }
  return out;
}

/** Reads samples from JSONL or CSV (header row); errors give file:line. */
export function loadSamples(file: string): StepSample[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(file, undefined, `cannot read samples: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const out: StepSample[] = [];
  if (/\.csv$/i.test(file)) {
    const header = (lines[0] ?? '').split(',').map((s) => s.trim());
    lines.slice(1).forEach((l, i) => {
      if (l.trim() === '') return;
      const cells = l.split(',');
      out.push(...sampleEquations(Object.fromEntries(header.map((h, j) => [h, cells[j]?.trim()])), `${file}:${i + 2}`));
    });
  } else {
    lines.forEach((l, i) => {
      if (l.trim() === '') return;
      let o: unknown;
      try {
        o = JSON.parse(l);
      } catch {
        throw inputError(`${file}:${i + 1}`, undefined, 'not valid JSON');
      }
      out.push(...sampleEquations(o as Record<string, unknown>, `${file}:${i + 1}`));
    });
  }
  if (out.length === 0) throw inputError(file, undefined, 'no samples');
  return out;
}

/** The design-matrix row of a shape: each term's contribution per unit of its coefficient. */
export function featureRow(opts: CostModelOptions & { coefficients: Coefficients }, shape: BatchShape): number[] {
  const unit = structuredClone(opts.coefficients);
  for (const k of Object.keys(unit.scale) as (keyof Coefficients['scale'])[]) unit.scale[k] = 1;
  const cm = createCostModel({ ...opts, coefficients: unit });
  const { ops } = cm.details(shape);
  const row = new Array<number>(TERMS.length).fill(0);
  const at = (t: Term) => TERMS.indexOf(t);
  for (const o of ops) {
    if (o.family === 'tp_allreduce') {
      row[at('comm.allreduceAlpha')] = o.calls;
      row[at('scale.tp_allreduce_bw')] = o.seconds - o.calls * unit.comm.allreduceAlpha;
    } else if (o.family === 'ep_all2all') {
      row[at('comm.all2allAlpha')] = o.calls;
      row[at('scale.ep_all2all_bw')] = o.seconds - o.calls * unit.comm.all2allAlpha;
    } else if (o.family !== 'overhead') {
      row[at(`scale.${o.family as OpFamily}`)] += o.seconds;
    }
  }
  const T = shape.prefillTokens + shape.decodeSeqs;
  if (T > 0) {
    row[at('overhead.perLayer')] = cm.model.layers;
    row[at('overhead.perStep')] = 1;
    row[at('overhead.perRequest')] = shape.prefillSeqs + shape.decodeSeqs;
    row[at('overhead.perMoeStep')] = cm.model.moe ? 1 : 0;
  }
  return row;
}

export interface FitResult {
  coefficients: Coefficients;
  terms: { term: Term; prior: number; fitted: number; used: boolean }[];
  samples: number;
  before: { medianAbsPctError: number; maxAbsPctError: number };
  after: { medianAbsPctError: number; maxAbsPctError: number };
}

function currentValue(c: Coefficients, t: Term): number {
  if (t === 'scale.tp_allreduce_bw') return c.scale.tp_allreduce;
  if (t === 'scale.ep_all2all_bw') return c.scale.ep_all2all;
  if (t === 'comm.allreduceAlpha') return c.comm.allreduceAlpha * c.scale.tp_allreduce;
  if (t === 'comm.all2allAlpha') return c.comm.all2allAlpha * c.scale.ep_all2all;
  const [group, key] = t.split('.') as [string, string];
  return (c as unknown as Record<string, Record<string, number>>)[group]![key]!;
}

/** Fits by NNLS on relative errors; `ridge` pulls each term toward its prior (0 = pure NNLS). */
export function fitCoefficients(opts: CostModelOptions & { coefficients: Coefficients }, samples: StepSample[], ridge = 0.05): FitResult {
  const prior = opts.coefficients;
  const rows = samples.map((s) => featureRow(opts, s.shape));
  const used = TERMS.map((_, j) => rows.some((r) => r[j]! > 0));
  const cols = TERMS.map((_, j) => j).filter((j) => used[j]);
  const A: number[][] = rows.map((r, i) => cols.map((j) => r[j]! / samples[i]!.seconds));
  const b: number[] = samples.map(() => 1);
  // Tikhonov rows toward the priors, scaled by each column's weight in the data.
  cols.forEach((j, k) => {
    const colNorm = Math.sqrt(A.reduce((s, r) => s + r[k]! ** 2, 0));
    const w = Math.sqrt(ridge) * colNorm;
    const row = new Array<number>(cols.length).fill(0);
    row[k] = w;
    A.push(row);
    b.push(w * currentValue(prior, TERMS[j]!));
  });
  // Scale columns to unit norm for conditioning; undo after.
  const norms = cols.map((_, k) => Math.sqrt(A.reduce((s, r) => s + r[k]! ** 2, 0)) || 1);
  const x = nnls(A.map((r) => r.map((v, k) => v / norms[k]!)), b).map((v, k) => v / norms[k]!);
  const theta = TERMS.map((t) => currentValue(prior, t));
  cols.forEach((j, k) => (theta[j] = x[k]!));
  const c = applyTerms(prior, theta);
  const errors = (coeffs: Coefficients) => {
    const cm = createCostModel({ ...opts, coefficients: coeffs });
    const e = samples.map((s) => Math.abs(cm.stepTime(s.shape).seconds / s.seconds - 1) * 100).sort((p, q) => p - q);
    const mid = e.length >> 1;
    return { medianAbsPctError: e.length % 2 ? e[mid]! : (e[mid - 1]! + e[mid]!) / 2, maxAbsPctError: e[e.length - 1]! };
  };
  return {
    coefficients: c,
    terms: TERMS.map((t, j) => ({ term: t, prior: currentValue(prior, t), fitted: theta[j]!, used: used[j]! })),
    samples: samples.length,
    before: errors(prior),
    after: errors(c),
  };
}

function applyTerms(prior: Coefficients, theta: number[]): Coefficients {
  const c = structuredClone(prior);
  c.source = `fit (from ${prior.source})`;
  TERMS.forEach((t, j) => {
    const v = theta[j]!;
    if (t === 'scale.tp_allreduce_bw') {
      // Fold the bandwidth multiplier into the bandwidth fraction; the α is fitted on its own.
      c.comm.allreduceBwFraction = v > 0 ? prior.comm.allreduceBwFraction / v : prior.comm.allreduceBwFraction * 1e6;
      c.scale.tp_allreduce = 1;
    } else if (t === 'scale.ep_all2all_bw') {
      c.comm.all2allBwFraction = v > 0 ? prior.comm.all2allBwFraction / v : prior.comm.all2allBwFraction * 1e6;
      c.scale.ep_all2all = 1;
    } else {
      const [group, key] = t.split('.') as [string, string];
      (c as unknown as Record<string, Record<string, number>>)[group]![key] = v;
    }
  });
  return c;
}
