// The seed's workloads: `discriminating` (the seed's test, verbatim) and `staggered` (waves
// that rise and fall, so the queue builds, peaks and drains), both deterministic.
import { choiceList, usageError } from '../../core/errors.ts';
import { createPrefillTask, type PrefillTask } from './task.ts';
import type { PrefillTimer } from './prefill-time.ts';

export const WORKLOADS = ['discriminating', 'staggered'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];
export const WORKLOAD_CHOICES = [...WORKLOADS, 'both'] as const;

export function workloadNames(x: string): WorkloadName[] {
  if (x === 'both') return [...WORKLOADS];
  if (!(WORKLOADS as readonly string[]).includes(x)) throw usageError(`--workload: ${choiceList(x, WORKLOAD_CHOICES)}`);
  return [x as WorkloadName];
}

export const WORKLOAD_DOCS: Record<WorkloadName, string> = {
  discriminating: '20 Qwen3 tasks at t=0, TP=2: T_low_1..8 weight 1, 2000 tokens; T_high_1..12 weight 10, 500 tokens',
  staggered:
    '84 Qwen3 tasks, TP=2, in 10 waves 0.1 s apart of 4,8,12,16,16,12,8,4,2,2 tasks (5 ms apart within a wave); every third task is low (weight 1, 2000 tokens), the rest high (weight 10, 500 tokens)',
};

/** The seed's discriminating test: 8 long low-weight tasks listed first, then 12 short high-weight ones. */
export function discriminating(timer?: PrefillTimer): PrefillTask[] {
  let seq = 0;
  const tasks: PrefillTask[] = [];
  for (let i = 0; i < 8; i++) tasks.push(createPrefillTask(`T_low_${i + 1}`, 'Qwen3', 30, 1.0, 0.0, 2000, 2, timer, seq++));
  for (let i = 0; i < 12; i++) tasks.push(createPrefillTask(`T_high_${i + 1}`, 'Qwen3', 30, 10.0, 0.0, 500, 2, timer, seq++));
  return tasks;
}

export const STAGGERED_WAVES = [4, 8, 12, 16, 16, 12, 8, 4, 2, 2] as const;

/** Load rises past the cluster's capacity (16 GPUs) at the middle waves and falls off, so the queue builds and drains. */
export function staggered(timer?: PrefillTimer): PrefillTask[] {
  let seq = 0;
  let low = 0;
  let high = 0;
  const tasks: PrefillTask[] = [];
  STAGGERED_WAVES.forEach((n, wave) => {
    for (let i = 0; i < n; i++) {
      const arrival = Math.round((wave * 0.1 + i * 0.005) * 1e6) / 1e6;
      if (i % 3 === 0) tasks.push(createPrefillTask(`T_low_${++low}`, 'Qwen3', 30, 1.0, arrival, 2000, 2, timer, seq++));
      else tasks.push(createPrefillTask(`T_high_${++high}`, 'Qwen3', 30, 10.0, arrival, 500, 2, timer, seq++));
    }
  });
  return tasks;
}

export function buildWorkload(name: WorkloadName, timer?: PrefillTimer): PrefillTask[] {
  const table: { [K in WorkloadName]: (t?: PrefillTimer) => PrefillTask[] } = { discriminating, staggered };
  return table[name](timer);
}
