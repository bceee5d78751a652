// Seeded request streams for the simulator: arrivals × lengths (synthetic or a ShareGPT file)
// × an optional multi-model mix. One PRNG stream per purpose, so changing one leaves the rest.
import { usageError } from '../../core/errors.ts';
import { createRng } from '../rng.ts';
import type { EngineRequest } from '../types.ts';
import { type ArrivalSpec, arrivalTimes, checkArrival } from './arrivals.ts';
import { type LengthSpec, lengthSampler } from './lengths.ts';
import type { DatasetEntry } from './sharegpt.ts';

export * from './arrivals.ts';
export * from './lengths.ts';
export * from './sharegpt.ts';

/** One tenant of a multi-model mix: its share of requests and, optionally, its own lengths. */
export interface MixEntry {
  name: string;
  weight: number;
  model?: string;
  endpoint?: string;
  adapter?: string | null;
  input?: LengthSpec;
  output?: LengthSpec;
}

export interface WorkloadSpec {
  arrival: ArrivalSpec;
  /** Stop after this many requests… */
  count?: number;
  /** …or at this simulated time (seconds), whichever comes first. */
  duration?: number;
  input?: LengthSpec;
  output?: LengthSpec;
  /** Prompts and lengths drawn (with replacement, seeded) from a dataset instead of input/output. */
  dataset?: { name: string; entries: readonly DatasetEntry[] };
  mix?: readonly MixEntry[];
  /** Generate exactly the sampled output length (vLLM bench --ignore-eos); else it is the EOS point. */
  ignoreEos?: boolean;
  seed: number;
}

export interface WorkloadRequest extends EngineRequest {
  model?: string;
  endpoint?: string;
  dataset?: string;
  tenant?: string;
}

export function checkWorkload(spec: WorkloadSpec): void {
  checkArrival(spec.arrival);
  if (spec.count === undefined && spec.duration === undefined) throw usageError('workload: give a request count or a duration');
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count >= 0)) throw usageError(`count: ${spec.count} must be a whole number ≥ 0`);
  if (spec.duration !== undefined && !(spec.duration > 0)) throw usageError(`duration: ${spec.duration} must be a positive number of seconds`);
  if (!spec.dataset && (!spec.input || !spec.output)) throw usageError('workload: give input and output length distributions, or a dataset');
  if (spec.mix) {
    if (spec.mix.length === 0) throw usageError('mix: needs at least one entry');
    spec.mix.forEach((m, i) => {
      if (!(Number.isFinite(m.weight) && m.weight >= 0)) throw usageError(`mix[${i}] (${m.name}).weight: ${m.weight} must be ≥ 0`);
    });
    if (spec.mix.reduce((a, m) => a + m.weight, 0) <= 0) throw usageError('mix: the weights need a positive total');
  }
}

/** The requests of a workload, in arrival order, generated lazily (a million cost no memory). */
export function* generateWorkload(spec: WorkloadSpec): Generator<WorkloadRequest> {
  checkWorkload(spec);
  const nextArrival = arrivalTimes(spec.arrival, createRng(spec.seed, 'arrivals'));
  const lenRng = createRng(spec.seed, 'lengths');
  const pickRng = createRng(spec.seed, 'dataset');
  const mixRng = createRng(spec.seed, 'mix');
  const defIn = spec.input ? lengthSampler(spec.input, lenRng, 'input') : undefined;
  const defOut = spec.output ? lengthSampler(spec.output, lenRng, 'output') : undefined;
  const mix = spec.mix?.map((m) => ({
    m,
    input: m.input ? lengthSampler(m.input, lenRng, `mix.${m.name}.input`) : defIn,
    output: m.output ? lengthSampler(m.output, lenRng, `mix.${m.name}.output`) : defOut,
  }));
  const mixTotal = spec.mix?.reduce((a, m) => a + m.weight, 0) ?? 0;
  const count = spec.count ?? Infinity;
  const duration = spec.duration ?? Infinity;
  const entries = spec.dataset?.entries;
  for (let i = 0; i < count; i++) {
    const arrival = nextArrival();
    if (arrival > duration) return;
    let tenant: (typeof mix & object)[number] | undefined;
    if (mix) {
      let u = mixRng.next() * mixTotal;
      tenant = mix[mix.length - 1];
      for (const t of mix) {
        if ((u -= t.m.weight) < 0) {
          tenant = t;
          break;
        }
      }
    }
    let promptTokens: number;
    let outputTokens: number;
    let content: string | undefined;
    const inS = tenant?.m.input ? tenant.input : entries ? undefined : (tenant?.input ?? defIn);
    const outS = tenant?.m.output ? tenant.output : entries ? undefined : (tenant?.output ?? defOut);
    const e = entries ? entries[pickRng.int(entries.length)]! : undefined;
    promptTokens = inS ? inS() : e!.promptTokens;
    outputTokens = outS ? outS() : e!.outputTokens;
    content = e?.prompt;
    yield {
      id: `req-${i}`,
      arrival,
      promptTokens,
      maxTokens: outputTokens,
      naturalTokens: outputTokens,
      ignoreEos: spec.ignoreEos,
      content,
      adapter: tenant?.m.adapter ?? null,
      model: tenant?.m.model,
      endpoint: tenant?.m.endpoint ?? tenant?.m.name,
      tenant: tenant?.m.name,
      dataset: spec.dataset?.name,
    };
  }
}
