// Arrival processes, all seeded: Poisson, Gamma (vLLM's burstiness: shape b, scale 1/(rate·b)),
// constant rate, and a 2-state Markov-modulated Poisson process (MMPP) for bursty load.
import { choiceList, usageError } from '../../core/errors.ts';
import type { Rng } from '../rng.ts';

export const ARRIVALS = ['poisson', 'gamma', 'constant', 'mmpp'] as const;
export type ArrivalKind = (typeof ARRIVALS)[number];

export type ArrivalSpec =
  | { kind: 'poisson'; rate: number }
  | { kind: 'gamma'; rate: number; burstiness: number }
  | { kind: 'constant'; rate: number }
  /** rates[s]: arrivals/s in state s; switch[s]: rate (1/s) of leaving state s. Starts in state 0. */
  | { kind: 'mmpp'; rates: [number, number]; switch: [number, number] };

function positive(field: string, v: number, what: string): void {
  if (!(Number.isFinite(v) && v > 0)) throw usageError(`${field}: ${v} must be a positive number (${what})`);
}

export function checkArrival(spec: ArrivalSpec): void {
  switch (spec.kind) {
    case 'poisson':
    case 'constant':
      positive('rate', spec.rate, 'requests per second');
      return;
    case 'gamma':
      positive('rate', spec.rate, 'requests per second');
      positive('burstiness', spec.burstiness, 'the Gamma shape: 1 = Poisson, < 1 burstier');
      return;
    case 'mmpp':
      for (const s of [0, 1] as const) {
        if (!(Number.isFinite(spec.rates[s]) && spec.rates[s] >= 0)) throw usageError(`mmpp.rates[${s}]: ${spec.rates[s]} must be ≥ 0 requests per second`);
        positive(`mmpp.switch[${s}]`, spec.switch[s], 'state changes per second');
      }
      if (spec.rates[0] + spec.rates[1] <= 0) throw usageError('mmpp.rates: at least one state needs a positive rate');
      return;
    default:
      throw usageError(`arrival: ${choiceList(String((spec as { kind: string }).kind), ARRIVALS)}`);
  }
}

/** Mean arrival rate of a spec (requests/s). */
export function meanRate(spec: ArrivalSpec): number {
  if (spec.kind === 'mmpp') {
    const [r0, r1] = spec.rates;
    const [s0, s1] = spec.switch;
    return (r0 * s1 + r1 * s0) / (s0 + s1);
  }
  return spec.rate;
}

/** A generator of increasing arrival times (seconds from 0). */
export function arrivalTimes(spec: ArrivalSpec, rng: Rng): () => number {
  checkArrival(spec);
  let t = 0;
  switch (spec.kind) {
    case 'poisson':
      return () => (t += rng.exp() / spec.rate);
    case 'gamma': {
      const b = spec.burstiness;
      const scale = 1 / (spec.rate * b);
      return () => (t += rng.gamma(b) * scale);
    }
    case 'constant': {
      let n = 0;
      return () => ++n / spec.rate;
    }
    case 'mmpp': {
      let state = 0;
      // Competing exponentials: next arrival in this state vs leaving the state (memoryless).
      return () => {
        for (;;) {
          const r = spec.rates[state]!;
          const s = spec.switch[state]!;
          const total = r + s;
          t += rng.exp() / total;
          if (rng.next() * total < r) return t;
          state = 1 - state;
        }
      };
    }
  }
}

/** An MMPP with mean `rate`: states at rate·(1 ∓ spread), each lasting on average `dwell` seconds. */
export function mmppAround(rate: number, spread = 0.5, dwell = 50 / rate): ArrivalSpec {
  return { kind: 'mmpp', rates: [rate * (1 - spread), rate * (1 + spread)], switch: [1 / dwell, 1 / dwell] };
}
