// Token-length distributions, all seeded: fixed, uniform, Pareto, log-normal and empirical
// (a list of values or a histogram), with a compact text form for flags ("lognormal:250:0.8").
import fs from 'node:fs';
import { choiceList, usageError } from '../../core/errors.ts';
import type { Rng } from '../rng.ts';

export const LENGTHS = ['fixed', 'uniform', 'pareto', 'lognormal', 'empirical'] as const;
export type LengthKind = (typeof LENGTHS)[number];

export type LengthSpec =
  | { kind: 'fixed'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Pareto with minimum `scale` and tail index `shape` (mean scale·shape/(shape−1) for shape > 1). */
  | { kind: 'pareto'; scale: number; shape: number; max?: number }
  /** Log-normal with the given mean and σ of the underlying normal. */
  | { kind: 'lognormal'; mean: number; sigma: number; max?: number }
  /** Values drawn with their weights (uniform when no weights): a list or a histogram. */
  | { kind: 'empirical'; values: number[]; weights?: number[] };

const bad = (field: string, v: unknown, what: string) => usageError(`${field}: ${String(v)} ${what}`);

export function checkLength(spec: LengthSpec, field = 'length'): void {
  const pos = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0)) throw bad(`${field}.${name}`, v, 'must be a positive number');
  };
  switch (spec.kind) {
    case 'fixed':
      pos('value', spec.value);
      return;
    case 'uniform':
      pos('min', spec.min);
      pos('max', spec.max);
      if (spec.max < spec.min) throw bad(`${field}.max`, spec.max, `must be ≥ min (${spec.min})`);
      return;
    case 'pareto':
      pos('scale', spec.scale);
      pos('shape', spec.shape);
      return;
    case 'lognormal':
      pos('mean', spec.mean);
      if (!(spec.sigma >= 0)) throw bad(`${field}.sigma`, spec.sigma, 'must be ≥ 0');
      return;
    case 'empirical':
      if (!spec.values.length) throw bad(`${field}.values`, '[]', 'must list at least one length');
      spec.values.forEach((v, i) => pos(`values[${i}]`, v));
      if (spec.weights) {
        if (spec.weights.length !== spec.values.length) throw bad(`${field}.weights`, spec.weights.length, `must have one weight per value (${spec.values.length})`);
        spec.weights.forEach((w, i) => {
          if (!(w >= 0)) throw bad(`${field}.weights[${i}]`, w, 'must be ≥ 0');
        });
        if (spec.weights.reduce((a, b) => a + b, 0) <= 0) throw bad(`${field}.weights`, 'all 0', 'need a positive total');
      }
      return;
    default:
      throw usageError(`${field}: ${choiceList(String((spec as { kind: string }).kind), LENGTHS)}`);
  }
}

/** A sampler of whole lengths ≥ 1. */
export function lengthSampler(spec: LengthSpec, rng: Rng, field = 'length'): () => number {
  checkLength(spec, field);
  const whole = (x: number, max = Infinity) => Math.max(1, Math.min(max, Math.round(x)));
  switch (spec.kind) {
    case 'fixed':
      return () => whole(spec.value);
    case 'uniform': {
      const lo = Math.round(spec.min);
      const span = Math.round(spec.max) - lo + 1;
      return () => whole(lo + rng.int(span));
    }
    case 'pareto':
      return () => whole(spec.scale / Math.pow(1 - rng.next(), 1 / spec.shape), spec.max);
    case 'lognormal': {
      const mu = Math.log(spec.mean) - (spec.sigma * spec.sigma) / 2;
      return () => whole(Math.exp(mu + spec.sigma * rng.normal()), spec.max);
    }
    case 'empirical': {
      const { values } = spec;
      if (!spec.weights) return () => whole(values[rng.int(values.length)]!);
      const cdf: number[] = [];
      let acc = 0;
      for (const w of spec.weights) cdf.push((acc += w));
      return () => {
        const u = rng.next() * acc;
        let lo = 0;
        let hi = cdf.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cdf[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        return whole(values[lo]!);
      };
    }
  }
}

/**
 * The flag form: `250` or `fixed:250`, `uniform:100:400`, `pareto:100:1.5[:max]`,
 * `lognormal:250:0.8[:max]` (mean, σ), `empirical:10,20,30`, or `empirical:FILE` (a JSON list of
 * lengths, or {"values":[…],"weights":[…]}).
 */
export function parseLengthSpec(text: string, flag = '--length', readFile = (f: string) => fs.readFileSync(f, 'utf8')): LengthSpec {
  const [kind, ...args] = text.split(':');
  const num = (i: number, name: string): number => {
    const raw = args[i];
    const v = Number(raw);
    if (raw === undefined || raw.trim() === '' || Number.isNaN(v)) throw usageError(`${flag}: '${text}': ${name} '${raw ?? ''}' is not a number`);
    return v;
  };
  const opt = (i: number, name: string) => (args[i] === undefined ? undefined : num(i, name));
  let spec: LengthSpec;
  if (/^[\d.]+$/.test(text)) spec = { kind: 'fixed', value: Number(text) };
  else if (kind === 'fixed') spec = { kind: 'fixed', value: num(0, 'value') };
  else if (kind === 'uniform') spec = { kind: 'uniform', min: num(0, 'min'), max: num(1, 'max') };
  else if (kind === 'pareto') spec = { kind: 'pareto', scale: num(0, 'scale'), shape: num(1, 'shape'), max: opt(2, 'max') };
  else if (kind === 'lognormal') spec = { kind: 'lognormal', mean: num(0, 'mean'), sigma: num(1, 'sigma'), max: opt(2, 'max') };
  else if (kind === 'empirical') {
    const rest = args.join(':');
    if (/^[\d.,\s]+$/.test(rest)) spec = { kind: 'empirical', values: rest.split(',').filter((s) => s.trim()).map(Number) };
    else {
      let data: unknown;
      try {
        data = JSON.parse(readFile(rest));
      } catch (err) {
        throw usageError(`${flag}: ${rest}: ${(err as Error).message}`);
      }
      if (Array.isArray(data)) spec = { kind: 'empirical', values: data.map(Number) };
      else if (data && typeof data === 'object' && Array.isArray((data as { values?: unknown }).values)) {
        const d = data as { values: unknown[]; weights?: unknown[] };
        spec = { kind: 'empirical', values: d.values.map(Number), weights: d.weights?.map(Number) };
      } else throw usageError(`${flag}: ${rest}: expected a JSON list of lengths or {"values": [...], "weights": [...]}`);
    }
  } else throw usageError(`${flag}: ${choiceList(kind ?? '', LENGTHS)} (e.g. lognormal:250:0.8)`);
  checkLength(spec, flag);
  return spec;
}
