// Writes scheduling simulations into the record contract: one `requests` line per task (the
// simulated clock in ns) and one `sim_intervals` line per busy stretch of a GPU group.
import type { RunHandle } from '../../core/run.ts';
import { groupLabel } from './cluster.ts';
import type { SimResult } from './task.ts';

export type SimMode = 'discrete' | 'event';

const ns = (s: number | null): number | null => (s === null ? null : Math.round(s * 1e9));

export interface SimLabel {
  workload: string;
  algorithm: string;
  mode: SimMode;
  cluster: string;
}

export function writeSimulation(run: RunHandle, label: SimLabel, r: SimResult): void {
  const prefix = `${label.workload}/${label.algorithm}/${label.mode}`;
  for (const o of r.outcomes) {
    const t = o.task;
    const completed = o.finish !== null;
    run.append('requests', {
      request_id: `${prefix}/${t.id}`,
      endpoint: label.cluster,
      protocol: 'sim',
      model: t.model,
      gpu: o.group,
      phase: 'main',
      dataset: label.workload,
      scheduled_ns: ns(t.arrival),
      sent_ns: ns(t.arrival),
      first_token_ns: ns(o.start),
      last_token_ns: ns(o.finish),
      done_ns: ns(o.finish),
      status: completed ? 'ok' : 'timeout',
      error: completed ? null : o.start === null ? 'not started before --max-time' : 'not finished before --max-time',
      weight: t.weight,
      preemptions: o.preemptions,
      extra: { algorithm: label.algorithm, workload: label.workload, mode: label.mode, task_id: t.id, tokens: t.tokens, tp: t.tp, duration_s: t.duration },
    });
  }
  for (const iv of r.intervals) {
    run.append('sim_intervals', {
      resource: groupLabel(iv.gpus),
      kind: 'task',
      request_id: `${prefix}/${iv.taskId}`,
      start_ns: ns(iv.start)!,
      end_ns: ns(iv.end)!,
      extra: { algorithm: label.algorithm, workload: label.workload, mode: label.mode, group: iv.gpus[0]! / iv.gpus.length },
    });
  }
}
