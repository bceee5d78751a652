// The seed's metrics of one simulation (weighted and average waiting time, makespan,
// completion) and its improvement lines. Waiting time = start − arrival, over completed tasks.
import type { SimResult } from './task.ts';

export interface SeedMetrics {
  weighted_waiting_time: number;
  average_waiting_time: number;
  makespan: number;
  completed: number;
  total: number;
}

export function seedMetrics(r: SimResult): SeedMetrics {
  let weighted = 0;
  let sum = 0;
  let completed = 0;
  let makespan = 0;
  for (const o of r.outcomes) {
    if (o.finish === null || o.start === null) continue;
    const wait = o.start - o.task.arrival;
    weighted += o.task.weight * wait;
    sum += wait;
    completed++;
    makespan = Math.max(makespan, o.finish);
  }
  return { weighted_waiting_time: weighted, average_waiting_time: completed ? sum / completed : 0, makespan, completed, total: r.outcomes.length };
}

/** The seed's comparison lines, e.g. "WeightedFIFO vs FIFO (weighted waiting time): … Improvement: 67.9%". */
export function improvementLines(by: ReadonlyMap<string, SeedMetrics>): string[] {
  const base = by.get('FIFO');
  if (!base) return [];
  const pairs: [string, keyof SeedMetrics, string][] = [
    ['WeightedFIFO', 'weighted_waiting_time', 'weighted waiting time'],
    ['SRPT', 'average_waiting_time', 'average waiting time'],
    ['WSRPT', 'weighted_waiting_time', 'weighted waiting time'],
  ];
  const lines: string[] = [];
  for (const [alg, field, label] of pairs) {
    const m = by.get(alg);
    if (!m) continue;
    const improvement = base[field] > 0 ? ((base[field] - m[field]) / base[field]) * 100 : 0;
    lines.push('', `${alg} vs FIFO (${label}):`, `  FIFO: ${base[field].toFixed(3)}`, `  ${alg}: ${m[field].toFixed(3)}`, `  Improvement: ${improvement.toFixed(1)}%`);
  }
  return lines;
}
