// Arrival schedules precomputed as absolute times (ns from the load start), never as
// sleeps between sends, so lag never accumulates (vLLM's under-delivery at high rates).
// A unit-rate process (exp, gamma or constant gaps) is mapped through the inverse of the
// cumulative rate Λ(t), which gives ramps and stages for free.
import { usageError } from '../core/errors.ts';
import type { Rng } from './rng.ts';

export const ARRIVALS = ['poisson', 'gamma', 'constant'] as const;
export type Arrival = (typeof ARRIVALS)[number];

/** A stretch of the rate profile: the rate goes linearly from `from` to `to` req/s. */
export interface RateStage {
  durationS: number;
  from: number;
  to: number;
}

export interface ScheduleSpec {
  /** Steady rate after the stages (req/s); Infinity sends everything at t=0. */
  rate: number;
  /** Gamma shape; 1 = Poisson, ∞ = constant (vLLM's --burstiness). */
  burstiness?: number;
  arrival?: Arrival;
  stages?: RateStage[];
  count?: number;
  durationS?: number;
}

/** The gaps of the unit-rate process in "operational time" (mean 1). */
function unitGap(spec: ScheduleSpec, rng: Rng): () => number {
  const b = spec.burstiness ?? 1;
  const kind: Arrival = spec.arrival ?? (b === Infinity ? 'constant' : b === 1 ? 'poisson' : 'gamma');
  const table: { [K in Arrival]: () => number } = {
    poisson: () => rng.exp(),
    gamma: () => rng.gamma(b) / b,
    constant: () => 1,
  };
  return table[kind];
}

/** Times where Λ(t) (expected arrivals by t) reaches each target; segments are linear in rate. */
function inverter(spec: ScheduleSpec): (lambda: number) => number {
  const segs = (spec.stages ?? []).map((s) => ({ ...s }));
  return (lambda: number) => {
    let t0 = 0;
    let acc = 0;
    for (const s of segs) {
      const area = ((s.from + s.to) / 2) * s.durationS;
      if (acc + area >= lambda) {
        const need = lambda - acc;
        const slope = (s.to - s.from) / s.durationS;
        // solve from·x + slope·x²/2 = need
        const x = Math.abs(slope) < 1e-12 ? need / s.from : (-s.from + Math.sqrt(s.from * s.from + 2 * slope * need)) / slope;
        return t0 + x;
      }
      acc += area;
      t0 += s.durationS;
    }
    return t0 + (lambda - acc) / spec.rate;
  };
}

/**
 * Absolute send times in ns, bounded by count and/or duration. At a steady rate (no stages)
 * the drawn gaps are rescaled so the schedule runs at exactly the target rate (the draw's own
 * noise would otherwise miss it by ~1/√n): n arrivals span (n−1)/rate, and a duration-bound
 * schedule holds round(rate·duration) arrivals. `exactRate: false` keeps the raw draw.
 */
/** The most arrivals one schedule holds (8 bytes each: 800 MB); more is a usage error, not a crash. */
export const MAX_SCHEDULED = 100_000_000;
const tooMany = (n: number) =>
  usageError(`the load would schedule ${n.toExponential(2)} requests; at most ${MAX_SCHEDULED.toLocaleString('en-US')} per run`, [
    'lower --num-prompts, --duration or --request-rate, or split the load into several runs (--shard)',
  ]);

export function buildSchedule(spec: ScheduleSpec & { exactRate?: boolean }, rng: Rng): Float64Array {
  if (spec.count === undefined && spec.durationS === undefined) throw new Error('schedule needs a count or a duration');
  const limit = spec.count ?? Number.MAX_SAFE_INTEGER;
  const endS = spec.durationS ?? Infinity;
  if (spec.rate === Infinity && !spec.stages?.length) {
    if (spec.count === undefined) throw new Error('an infinite rate needs a request count');
    if (spec.count > MAX_SCHEDULED) throw tooMany(spec.count);
    return new Float64Array(spec.count);
  }
  const gap = unitGap(spec, rng);
  if (spec.exactRate !== false && !spec.stages?.length && spec.rate > 0) {
    return exactRateSchedule(spec.rate, gap, limit, endS);
  }
  const at = inverter(spec);
  const out: number[] = [];
  let lambda = 0;
  // vLLM's first request goes at t=0; later ones follow the process
  for (let i = 0; i < limit; i++) {
    const t = i === 0 ? 0 : at(lambda);
    if (!(t < endS)) break;
    if (i >= MAX_SCHEDULED) throw tooMany(i + 1);
    out.push(Math.round(t * 1e9));
    lambda += gap();
  }
  return Float64Array.from(out);
}

function exactRateSchedule(rate: number, gap: () => number, limit: number, endS: number): Float64Array {
  // n arrivals: as many as the count allows, and no more than the duration holds at this rate
  const n = Math.min(limit, Number.isFinite(endS) ? Math.max(1, Math.round(rate * endS)) : limit);
  if (n > MAX_SCHEDULED) throw tooMany(n);
  // cumulative unit-time positions of arrivals 0..n-1, and where arrival n would fall
  const pos = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) pos[i] = pos[i - 1]! + gap();
  // count-bound: arrival n−1 lands at (n−1)/rate; duration-bound: arrival n would land at the end
  const bound = Number.isFinite(endS) && n < limit ? n : n - 1;
  const scale = bound > 0 && pos[bound]! > 0 ? bound / rate / pos[bound]! : 1 / rate;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(pos[i]! * scale * 1e9);
  return out;
}

/** Parses stages 'DUR:RATE[-RATE],…' e.g. '10:0-50,60:50' (linear 0→50 over 10 s, then 50 for 60 s). */
export function parseStages(text: string): RateStage[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)s?:(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?\s*$/.exec(part);
    const bad = (why: string) => usageError(`--ramp-up: stage '${part}': ${why}`, ['stages are DURATION:RATE or DURATION:FROM-TO, comma-separated (e.g. 10:0-50,20:50)']);
    if (!m) throw bad('expected DURATION:RATE or DURATION:FROM-TO');
    const stage = { durationS: Number(m[1]), from: Number(m[2]), to: m[3] === undefined ? Number(m[2]) : Number(m[3]) };
    if (!(stage.durationS > 0)) throw bad('the duration must be greater than 0 s');
    if (stage.durationS > 7 * 86_400 || stage.from > 1e6 || stage.to > 1e6) throw bad('at most 7 days and 1,000,000 req/s');
    return stage;
  });
}
