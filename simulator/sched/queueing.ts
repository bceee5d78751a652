// Queueing-theory oracles (Erlang C, Pollaczek–Khinchine) and replicated event-driven runs
// with a t-based 95% confidence interval: the checks that validate the simulator's timing.
import { mulberry32, type Rng } from '../rng.ts';
import { simulateEvents } from './event.ts';
import { syntheticTask, type PrefillTask, type SimResult } from './task.ts';

/** Service-time laws with mean 1/μ: exponential (M), deterministic (D), Gamma with squared CV cs2 (G). */
export type Service = { kind: 'exp' } | { kind: 'det' } | { kind: 'gamma'; cs2: number };

export interface QueueCase {
  name: string;
  servers: number;
  /** Per-server utilisation ρ = λ/(cμ). */
  rho: number;
  service: Service;
}

const MU = 1;

export function sampleService(s: Service, rng: Rng): number {
  switch (s.kind) {
    case 'exp':
      return rng.exp() / MU;
    case 'det':
      return 1 / MU;
    case 'gamma':
      return rng.gamma(1 / s.cs2) * (s.cs2 / MU);
  }
}

/** E[S²] of each law (mean 1/μ). */
function secondMoment(s: Service): number {
  const m = 1 / MU;
  return s.kind === 'exp' ? 2 * m * m : s.kind === 'det' ? m * m : (1 + s.cs2) * m * m;
}

/** Erlang C probability of waiting, for c servers and offered load a = λ/μ (< c). */
export function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const top = (term * a) / c * (c / (c - a));
  return top / (sum + top);
}

/** The mean time in queue W_q the formula predicts: Erlang C for M/M/c, Pollaczek–Khinchine for M/G/1. */
export function theoreticalWq(q: QueueCase): number {
  const lambda = q.rho * q.servers * MU;
  if (q.service.kind === 'exp' && q.servers > 1) return erlangC(q.servers, lambda / MU) / (q.servers * MU - lambda);
  if (q.servers !== 1) throw new Error(`${q.name}: no exact formula for ${q.service.kind} service on ${q.servers} servers`);
  return (lambda * secondMoment(q.service)) / (2 * (1 - q.rho));
}

/** Poisson arrivals and i.i.d. service times from separate seeded streams. */
export function poissonTrace(q: QueueCase, jobs: number, seed: number): PrefillTask[] {
  const arrivals = mulberry32(seed, 1);
  const sizes = mulberry32(seed, 2);
  const lambda = q.rho * q.servers * MU;
  const tasks: PrefillTask[] = new Array(jobs);
  let t = 0;
  for (let i = 0; i < jobs; i++) {
    t += arrivals.exp() / lambda;
    tasks[i] = syntheticTask(i, t, sampleService(q.service, sizes));
  }
  return tasks;
}

/** Mean wait of one FIFO run, jobs after the first `warmup` fraction (the empty start biases them low). */
export function fifoMeanWait(q: QueueCase, jobs: number, seed: number, warmup = 0.1): number {
  const r = simulateEvents(poissonTrace(q, jobs, seed), { gpus: q.servers, scheduler: 'FIFO', maxTime: Infinity, intervals: false });
  const skip = Math.floor(jobs * warmup);
  let sum = 0;
  for (let i = skip; i < jobs; i++) {
    const o = r.outcomes[i]!;
    sum += o.start! - o.task.arrival;
  }
  return sum / (jobs - skip);
}

/** Two-sided 97.5% Student t quantiles by degrees of freedom (1–30), then the normal 1.96. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface CheckResult {
  name: string;
  theory: number;
  mean: number;
  halfWidth: number;
  relError: number;
  covered: boolean;
}

/** Replicated runs (independent seeds), their mean and 95% CI, against the formula. */
export function checkQueue(q: QueueCase, jobs: number, replications: number, seed: number): CheckResult {
  const xs = Array.from({ length: replications }, (_, i) => fifoMeanWait(q, jobs, seed * 1000 + i));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  const halfWidth = (T975[xs.length - 2] ?? 1.96) * Math.sqrt(variance / xs.length);
  const theory = theoreticalWq(q);
  return { name: q.name, theory, mean, halfWidth, relError: (mean - theory) / theory, covered: Math.abs(mean - theory) <= halfWidth };
}

export const QUEUE_CASES: readonly QueueCase[] = [0.5, 0.8, 0.95].flatMap((rho) => [
  { name: `M/M/8 ρ=${rho} (Erlang C)`, servers: 8, rho, service: { kind: 'exp' } },
  { name: `M/D/1 ρ=${rho} (P-K)`, servers: 1, rho, service: { kind: 'det' } },
  { name: `M/G/1 ρ=${rho} (P-K, Gamma cs²=0.5)`, servers: 1, rho, service: { kind: 'gamma', cs2: 0.5 } },
] as QueueCase[]);

export interface LittleCheck {
  /** ∫N(t)dt over the run (tasks in system) and Σ(finish − arrival): Little's law says they are equal. */
  areaInSystem: number;
  sumSojourn: number;
  /** ∫N_q(t)dt (tasks waiting) and Σ(start − arrival). */
  areaInQueue: number;
  sumWait: number;
  /** GPU-seconds busy (from the intervals) and Σ duration·tp of completed tasks. */
  busyGpuSeconds: number;
  work: number;
}

/** Integrates N(t) by a sweep over arrivals and departures, independently of the per-task sums. */
export function littleCheck(r: SimResult): LittleCheck {
  const done = r.outcomes.filter((o) => o.finish !== null);
  const area = (pairs: [number, number][]) => {
    const ev: [number, number][] = [];
    for (const [a, b] of pairs) ev.push([a, 1], [b, -1]);
    ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let n = 0;
    let prev = 0;
    let total = 0;
    for (const [t, d] of ev) {
      total += n * (t - prev);
      prev = t;
      n += d;
    }
    return total;
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    areaInSystem: area(done.map((o) => [o.task.arrival, o.finish!])),
    sumSojourn: sum(done.map((o) => o.finish! - o.task.arrival)),
    areaInQueue: area(done.map((o) => [o.task.arrival, o.start!])),
    sumWait: sum(done.map((o) => o.start! - o.task.arrival)),
    busyGpuSeconds: sum(r.intervals.map((iv) => (iv.end - iv.start) * iv.gpus.length)),
    work: sum(done.map((o) => o.task.duration * o.task.tp)),
  };
}
