// The cost model's coefficients: per-op-family efficiencies and per-call latencies, comm α and
// bandwidth fractions, eager launch cost, overheads and fitted multipliers. Defaults come from the
// committed calibration of the GPU (simulator/calibration/<gpu>.json; the H100 one for GPUs without their own).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputError } from '../core/errors.ts';

export const OP_FAMILIES = ['gemm_qkv', 'gemm_o', 'gemm_gate_up', 'gemm_down', 'lm_head', 'attn_decode', 'attn_prefill', 'moe_expert', 'lora'] as const;
export type OpFamily = (typeof OP_FAMILIES)[number];
export const isOpFamily = (s: string): s is OpFamily => (OP_FAMILIES as readonly string[]).includes(s);

export interface OpCoefficients {
  /** Fraction of peak FLOP/s the op reaches when compute-bound. */
  etaFlop: number;
  /** Fraction of HBM bandwidth the op reaches when memory-bound. */
  etaMem: number;
  /** Fixed seconds per call (kernel start, tail), added to the roofline time. */
  latency: number;
  /** This family's knee when it differs from the global one (1 = compute and memory time add up). */
  knee?: number;
  /** Host seconds to issue one call eagerly, where measured for this family (else launch.hostSeconds). */
  launchHost?: number;
}

export interface Coefficients {
  /** Where these numbers come from (calibration file, fit, priors). */
  source: string;
  /** p of the p-norm that joins compute and memory time: (tc^p + tm^p)^(1/p); Infinity = hard max. */
  knee: number;
  ops: Record<OpFamily, OpCoefficients>;
  comm: {
    /** Seconds per all-reduce call (NCCL/custom all-reduce latency). */
    allreduceAlpha: number;
    /** Achieved all-reduce bus bandwidth as a fraction of NVLink per-direction bandwidth. */
    allreduceBwFraction: number;
    /** Seconds per all-to-all (dispatch or combine) call. */
    all2allAlpha: number;
    all2allBwFraction: number;
  };
  overhead: {
    /** Seconds per layer per step (norms, rope, activations, launches not priced as ops). */
    perLayer: number;
    /** Seconds per step (scheduler, sampling, input preparation). */
    perStep: number;
    /** Seconds per request in the batch per step. */
    perRequest: number;
    /** Extra seconds per step of a MoE model (routing, permutation). */
    perMoeStep: number;
  };
  /** Kernel launch from Python (no CUDA graph): a call costs max(kernel + gapSeconds, hostSeconds). */
  launch: {
    /** Host seconds to issue one kernel: the floor of an eager call. */
    hostSeconds: number;
    /** Extra device seconds between back-to-back eager kernels longer than the host cost. */
    gapSeconds: number;
  };
  /** Fitted inverse-efficiency multipliers on each component's time (1 = as calibrated). */
  scale: Record<OpFamily | 'tp_allreduce' | 'ep_all2all', number>;
  /** Where each term's numbers come from (TERMS keys); a term not listed is a prior. */
  sources: Partial<Record<Term, string>>;
}

/** The cost model's terms as `sim explain` lists them, each measured or a prior. */
export const TERMS = [...OP_FAMILIES.map((f) => `ops.${f}` as const), 'knee', 'comm.allreduce', 'comm.all2all', 'launch', 'overhead', 'scale'] as const;
export type Term = (typeof TERMS)[number];

const here = path.dirname(fileURLToPath(import.meta.url));
export const CALIBRATION_DIR = path.join(here, 'calibration');
export const CALIBRATION_FILE = path.join(CALIBRATION_DIR, 'h100.json');
/** The committed calibration of a GPU (h100.json, h200.json …). */
export const calibrationFileFor = (gpu: string): string => path.join(CALIBRATION_DIR, `${gpu.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.json`);

/** Priors from simulation.md (η_m≈0.9, η_f≈0.7, α≈30 µs, BLIS overheads), used where nothing is calibrated. */
export function priorCoefficients(): Coefficients {
  const op = (etaFlop: number, etaMem: number, latency: number): OpCoefficients => ({ etaFlop, etaMem, latency });
  return {
    source: 'priors (simulation.md §3)',
    knee: 4,
    ops: {
      gemm_qkv: op(0.7, 0.85, 3e-6),
      gemm_o: op(0.7, 0.85, 3e-6),
      gemm_gate_up: op(0.7, 0.85, 3e-6),
      gemm_down: op(0.7, 0.85, 3e-6),
      lm_head: op(0.7, 0.85, 3e-6),
      attn_decode: op(0.5, 0.9, 4.8e-6),
      attn_prefill: { ...op(0.6, 0.6, 5e-6), knee: 1 },
      moe_expert: op(0.65, 0.78, 5e-6),
      lora: op(0.3, 0.6, 5e-6),
    },
    comm: { allreduceAlpha: 30e-6, allreduceBwFraction: 365 / 450, all2allAlpha: 30e-6, all2allBwFraction: 0.6 },
    overhead: { perLayer: 32e-6, perStep: 126e-6, perRequest: 4e-6, perMoeStep: 482e-6 },
    // shared/calibration/README.md: small ops cost 18–38 µs eager, long ones 1–5 µs more than in a graph.
    launch: { hostSeconds: 20e-6, gapSeconds: 3e-6 },
    scale: unitScale(),
    sources: {},
  };
}

export function unitScale(): Coefficients['scale'] {
  return { gemm_qkv: 1, gemm_o: 1, gemm_gate_up: 1, gemm_down: 1, lm_head: 1, attn_decode: 1, attn_prefill: 1, moe_expert: 1, lora: 1, tp_allreduce: 1, ep_all2all: 1 };
}

const defaults = new Map<string, Coefficients>();

/** The GPU's committed calibration (the H100 one where the GPU has none) merged over the priors (priors alone if no file). */
export function defaultCoefficients(gpu = 'H100'): Coefficients {
  const own = calibrationFileFor(gpu);
  const file = fs.existsSync(own) ? own : CALIBRATION_FILE;
  if (!defaults.has(file)) defaults.set(file, fs.existsSync(file) ? loadCoefficients(file) : priorCoefficients());
  return structuredClone(defaults.get(file)!);
}

/** Merges a partial coefficients object over a base, checking every number. `where` names the file. */
export function mergeCoefficients(base: Coefficients, partial: unknown, where: string): Coefficients {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) throw inputError(where, undefined, 'expected a JSON object of coefficients');
  const p = partial as Record<string, unknown>;
  const out = structuredClone(base);
  const num = (v: unknown, field: string, allowInf = false): number => {
    if (allowInf && (v === 'Infinity' || v === null)) return Infinity;
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw inputError(where, field, `${JSON.stringify(v)} is not a non-negative number`);
    return v;
  };
  if (typeof p.source === 'string') out.source = p.source;
  if (p.knee !== undefined) out.knee = num(p.knee, 'knee', true) || Infinity;
  const group = <K extends string>(key: string, target: Record<K, number>) => {
    const g = p[key];
    if (g === undefined) return;
    if (typeof g !== 'object' || g === null) throw inputError(where, key, 'expected an object');
    for (const [k, v] of Object.entries(g)) {
      if (!(k in target)) throw inputError(where, `${key}.${k}`, `unknown; expected one of ${Object.keys(target).join(', ')}`);
      target[k as K] = num(v, `${key}.${k}`);
    }
  };
  group('comm', out.comm);
  group('overhead', out.overhead);
  group('launch', out.launch);
  group('scale', out.scale);
  // Terms a file sets are its own: measured where it says so (calibrations list `sources`), else set by the file.
  const set = (term: Term) => {
    out.sources[term] = `set by ${where}`;
  };
  const g = (k: string) => (p[k] && typeof p[k] === 'object' ? Object.keys(p[k] as object) : []);
  if (p.sources === undefined) {
    if (p.knee !== undefined) set('knee');
    for (const k of g('comm')) set(k.startsWith('allreduce') ? 'comm.allreduce' : 'comm.all2all');
    if (g('overhead').length) set('overhead');
    if (g('launch').length) set('launch');
    if (Object.entries((p.scale ?? {}) as Record<string, unknown>).some(([, v]) => v !== 1)) set('scale');
    for (const fam of g('ops')) if (isOpFamily(fam)) set(`ops.${fam}`);
  } else {
    if (typeof p.sources !== 'object' || p.sources === null || Array.isArray(p.sources)) throw inputError(where, 'sources', 'expected an object of term: source');
    for (const [k, v] of Object.entries(p.sources)) {
      if (!(TERMS as readonly string[]).includes(k)) throw inputError(where, `sources.${k}`, `unknown term; expected one of ${TERMS.join(', ')}`);
      if (typeof v !== 'string') throw inputError(where, `sources.${k}`, 'expected a string');
      out.sources[k as Term] = v;
    }
  }
  const ops = p.ops;
  if (ops !== undefined) {
    if (typeof ops !== 'object' || ops === null) throw inputError(where, 'ops', 'expected an object');
    for (const [fam, v] of Object.entries(ops)) {
      if (!isOpFamily(fam)) throw inputError(where, `ops.${fam}`, `unknown op family; expected one of ${OP_FAMILIES.join(', ')}`);
      const o = v as Record<string, unknown>;
      if (o.knee !== undefined) out.ops[fam].knee = num(o.knee, `ops.${fam}.knee`, true) || Infinity;
      if (o.launchHost !== undefined) out.ops[fam].launchHost = num(o.launchHost, `ops.${fam}.launchHost`);
      for (const k of ['etaFlop', 'etaMem', 'latency'] as const) {
        if (o[k] === undefined) continue;
        const n = num(o[k], `ops.${fam}.${k}`);
        if (k !== 'latency' && (n <= 0 || n > 1.5)) throw inputError(where, `ops.${fam}.${k}`, `${n} is not an efficiency in (0, 1.5]`);
        out.ops[fam][k] = n;
      }
      for (const k of Object.keys(o)) {
        if (!['etaFlop', 'etaMem', 'latency', 'knee', 'launchHost'].includes(k)) throw inputError(where, `ops.${fam}.${k}`, 'unknown; expected etaFlop, etaMem, latency, knee, launchHost');
      }
    }
  }
  return out;
}

/** Reads a coefficients JSON (as written by calibrate or `sim fit`), merged over the priors. */
export function loadCoefficients(file: string, base: Coefficients = priorCoefficients()): Coefficients {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw inputError(file, undefined, `cannot read coefficients: ${(err as Error).message}`);
  }
  const obj = data as Record<string, unknown>;
  // Files written by calibrate/fit wrap the numbers in { coefficients: … } next to their provenance.
  const inner = obj && typeof obj === 'object' && 'coefficients' in obj ? obj.coefficients : data;
  return mergeCoefficients(base, inner, file);
}

/** JSON-safe form (Infinity as the string 'Infinity'). */
export function coefficientsToJson(c: Coefficients): unknown {
  return { ...c, knee: Number.isFinite(c.knee) ? c.knee : 'Infinity' };
}
