// The event-driven twin of the discrete loop: exact times, events ordered by (time, event
// priority: completion before arrival, sequence); the scheduler runs once all events at a time are in.
import { Heap } from '../engine/heap.ts';
import { GpuPool } from './cluster.ts';
import { ORDERINGS, TaskQueue, selectNext, type SchedulerName, type Waiting } from './orderings.ts';
import { NO_GPUS, type Interval, type PrefillTask, type SimResult, type TaskOutcome } from './task.ts';

export interface EventOptions {
  gpus: number;
  scheduler: SchedulerName;
  /** Tasks finishing after this many seconds count as not completed (Infinity: run to the end). */
  maxTime: number;
  /** Preempt a running task when a waiting one is ahead of it in the ordering (SRPT becomes preemptive SRPT). */
  preemptive?: boolean;
  /** Skip the interval list (long queueing runs). */
  intervals?: boolean;
}

interface Running {
  w: Waiting;
  outcome: TaskOutcome;
  /** Start of the current service segment and its scheduled end. */
  segStart: number;
  end: number;
  /** Sequence of the completion event: ties at one time complete in start order. */
  token: number;
  /** False once completed or preempted; its event in the heap is then stale. */
  live: boolean;
}

/** Completion events by (time, sequence): a total order, so ties complete in start order. */
const less = (a: Running, b: Running) => a.end < b.end || (a.end === b.end && a.token < b.token);

function byArrival(tasks: readonly PrefillTask[]): number[] {
  const order = tasks.map((_, i) => i);
  let sorted = true;
  for (let i = 1; i < tasks.length && sorted; i++) {
    const a = tasks[i - 1]!;
    const b = tasks[i]!;
    if (a.arrival > b.arrival || (a.arrival === b.arrival && a.seq > b.seq)) sorted = false;
  }
  if (!sorted) order.sort((i, j) => tasks[i]!.arrival - tasks[j]!.arrival || tasks[i]!.seq - tasks[j]!.seq);
  return order;
}

export function simulateEvents(tasks: readonly PrefillTask[], o: EventOptions): SimResult {
  const pool = new GpuPool(o.gpus);
  const queue = new TaskQueue(o.scheduler);
  const cmp = ORDERINGS[o.scheduler].compare;
  const keepIntervals = o.intervals !== false;
  const order = byArrival(tasks);
  const outcomes = tasks.map((t): TaskOutcome => ({ task: t, start: null, finish: null, group: null, gpus: NO_GPUS, preemptions: 0 }));
  const intervals: Interval[] = [];
  const completions = new Heap<Running>(less);
  let running: Running[] = [];
  let token = 0;
  let next = 0;
  let now = 0;
  let last = 0;

  const start = (w: Waiting, gpus: number[], t: number) => {
    const out = outcomes[w.idx]!;
    pool.take(gpus);
    if (out.start === null) out.start = t;
    out.gpus = gpus;
    out.group = gpus[0]! / w.task.tp;
    const r: Running = { w, outcome: out, segStart: t, end: t + w.remaining, token: token++, live: true };
    running.push(r);
    completions.push(r);
  };
  const stop = (r: Running, t: number) => {
    r.live = false;
    running.splice(running.indexOf(r), 1);
    pool.release(r.outcome.gpus);
    if (keepIntervals && t > r.segStart) intervals.push({ taskId: r.w.task.id, gpus: r.outcome.gpus, start: r.segStart, end: t });
  };

  for (;;) {
    while (completions.size > 0 && !completions.peek()!.live) completions.pop();
    const tc = completions.size > 0 ? completions.peek()!.end : Infinity;
    const ta = next < order.length ? tasks[order[next]!]!.arrival : Infinity;
    now = tc < ta ? tc : ta;
    if (now === Infinity || now > o.maxTime) break;
    last = now;
    // Every event at `now`: completions first (they free GPUs), then arrivals.
    while (completions.size > 0) {
      const r = completions.peek()!;
      if (r.live && r.end !== now) break;
      completions.pop();
      if (!r.live) continue;
      r.outcome.finish = now;
      stop(r, now);
    }
    while (next < order.length && tasks[order[next]!]!.arrival === now) {
      const idx = order[next++]!;
      const task = tasks[idx]!;
      queue.push({ task, remaining: task.duration, idx });
    }
    if (o.preemptive) preempt(now);
    while (pool.freeCount > 0 && queue.length > 0) {
      const gpus = pool.find(queue.peek()!.task.tp);
      if (!gpus) break;
      start(selectNext(queue)!, gpus, now);
    }
  }

  /** While the queue's head is ahead of the last-ranked running task and cannot start, swap them. */
  function preempt(t: number): void {
    for (;;) {
      const head = queue.peek();
      if (!head || pool.find(head.task.tp)) return;
      let worst: Running | undefined;
      for (const r of running) {
        r.w.remaining = r.end - t;
        if (!worst || cmp(r.w, worst.w) > 0) worst = r;
      }
      if (!worst || cmp(head, worst.w) >= 0 || worst.w.task.tp !== head.task.tp) return;
      stop(worst, t);
      worst.outcome.preemptions++;
      queue.push(worst.w);
      start(selectNext(queue)!, pool.find(head.task.tp)!, t);
    }
  }

  const endTime = now === Infinity ? last : o.maxTime;
  if (keepIntervals) for (const r of running) intervals.push({ taskId: r.w.task.id, gpus: r.outcome.gpus, start: r.segStart, end: endTime });
  running = [];
  intervals.sort((a, b) => a.start - b.start || a.gpus[0]! - b.gpus[0]!);
  return { outcomes, intervals, endTime };
}
