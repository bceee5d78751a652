// The seed's discrete-time loop, kept step for step: each dt (1) complete finished tasks and
// free their GPUs, (2) queue the tasks that have arrived, (3) while GPUs are free, selectNext.
import { GpuPool } from './cluster.ts';
import { TaskQueue, selectNext, type SchedulerName } from './orderings.ts';
import { NO_GPUS, type Interval, type PrefillTask, type SimResult, type TaskOutcome } from './task.ts';

export interface DiscreteOptions {
  gpus: number;
  scheduler: SchedulerName;
  /** Time step, seconds (the seed's default 0.01). */
  dt: number;
  /** Stop after this many simulated seconds (the seed's --max-time). */
  maxTime: number;
}

/** Times within this of a grid point count as on it (k·dt is computed, never accumulated). */
const EPS = 1e-9;

interface Running {
  outcome: TaskOutcome;
  end: number;
}

export function simulateDiscrete(tasks: readonly PrefillTask[], o: DiscreteOptions): SimResult {
  const pool = new GpuPool(o.gpus);
  const queue = new TaskQueue(o.scheduler);
  const pending = tasks.map((task, idx) => ({ task, idx })).sort((a, b) => a.task.arrival - b.task.arrival || a.task.seq - b.task.seq);
  const outcomes = tasks.map((t): TaskOutcome => ({ task: t, start: null, finish: null, group: null, gpus: NO_GPUS, preemptions: 0 }));
  const intervals: Interval[] = [];
  let running: Running[] = [];
  let next = 0;
  let done = 0;
  let t = 0;
  for (let k = 0; ; k++) {
    t = k * o.dt;
    if (t > o.maxTime + EPS) break;
    // 1. Complete finished tasks, free their GPUs.
    const still: Running[] = [];
    for (const r of running) {
      if (r.end <= t + EPS) {
        r.outcome.finish = r.end;
        pool.release(r.outcome.gpus);
        done++;
      } else still.push(r);
    }
    running = still;
    if (done === tasks.length) break;
    // 2. Add the tasks that have arrived.
    while (next < pending.length && pending[next]!.task.arrival <= t + EPS) {
      const { task, idx } = pending[next++]!;
      queue.push({ task, remaining: task.duration, idx });
    }
    // 3. While GPUs are free, the scheduler picks from the queue (head-of-line: stop when its pick does not fit).
    while (pool.freeCount > 0 && queue.length > 0) {
      const gpus = pool.find(queue.peek()!.task.tp);
      if (!gpus) break;
      const w = selectNext(queue)!;
      const out = outcomes[w.idx]!;
      pool.take(gpus);
      out.start = t;
      out.gpus = gpus;
      out.group = gpus[0]! / w.task.tp;
      running.push({ outcome: out, end: t + w.task.duration });
    }
  }
  for (const r of running) intervals.push({ taskId: r.outcome.task.id, gpus: r.outcome.gpus, start: r.outcome.start!, end: Math.min(r.end, o.maxTime) });
  for (const out of outcomes) {
    if (out.finish !== null) intervals.push({ taskId: out.task.id, gpus: out.gpus, start: out.start!, end: out.finish });
  }
  intervals.sort((a, b) => a.start - b.start || a.gpus[0]! - b.gpus[0]!);
  return { outcomes, intervals, endTime: Math.min(t, o.maxTime) };
}
