// The event-driven twin of the discrete loop: exact times, events ordered by (time, event
// priority: completion before arrival, sequence); the scheduler runs once all events at a time are in.
import { GpuPool } from './cluster.ts';
import { ORDERINGS, TaskQueue, selectNext, type SchedulerName, type Waiting } from './orderings.ts';
import type { Interval, PrefillTask, SimResult, TaskOutcome } from './task.ts';

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
  /** Sequence of the completion event; a preempted task's stale event no longer matches. */
  token: number;
}

/** Min-heap of completion events keyed by (time, sequence). */
class CompletionHeap {
  private h: Running[] = [];
  get size(): number {
    return this.h.length;
  }
  top(): Running | undefined {
    return this.h[0];
  }
  private less(a: Running, b: Running): boolean {
    return a.end < b.end || (a.end === b.end && a.token < b.token);
  }
  push(r: Running): void {
    const h = this.h;
    h.push(r);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Running | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (l + 1 < h.length && this.less(h[l + 1]!, h[m]!)) m = l + 1;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export function simulateEvents(tasks: readonly PrefillTask[], o: EventOptions): SimResult {
  const pool = new GpuPool(o.gpus);
  const queue = new TaskQueue(o.scheduler);
  const cmp = ORDERINGS[o.scheduler].compare;
  const keepIntervals = o.intervals !== false;
  const pending = [...tasks].sort((a, b) => a.arrival - b.arrival || a.seq - b.seq);
  const outcomes = tasks.map((t): TaskOutcome => ({ task: t, start: null, finish: null, group: null, gpus: [], preemptions: 0 }));
  const byTask = new Map<PrefillTask, TaskOutcome>(outcomes.map((x) => [x.task, x]));
  const intervals: Interval[] = [];
  const completions = new CompletionHeap();
  const running = new Set<Running>();
  let token = 0;
  let next = 0;
  let now = 0;
  let last = 0;

  const start = (w: Waiting, gpus: number[], t: number) => {
    const out = byTask.get(w.task)!;
    pool.take(gpus);
    if (out.start === null) out.start = t;
    out.gpus = gpus;
    out.group = gpus[0]! / w.task.tp;
    const r: Running = { w, outcome: out, segStart: t, end: t + w.remaining, token: token++ };
    running.add(r);
    completions.push(r);
  };
  const stop = (r: Running, t: number) => {
    running.delete(r);
    pool.release(r.outcome.gpus);
    if (keepIntervals && t > r.segStart) intervals.push({ taskId: r.w.task.id, gpus: r.outcome.gpus, start: r.segStart, end: t });
  };

  for (;;) {
    // Drop completion events of preempted segments.
    while (completions.size > 0 && !running.has(completions.top()!)) completions.pop();
    const tc = completions.top()?.end ?? Infinity;
    const ta = next < pending.length ? pending[next]!.arrival : Infinity;
    now = Math.min(tc, ta);
    if (now === Infinity || now > o.maxTime) break;
    last = now;
    // Every event at `now`: completions first (they free GPUs), then arrivals.
    while (completions.size > 0) {
      const r = completions.top()!;
      if (!running.has(r)) {
        completions.pop();
        continue;
      }
      if (r.end !== now) break;
      completions.pop();
      r.outcome.finish = now;
      stop(r, now);
    }
    while (next < pending.length && pending[next]!.arrival === now) {
      const task = pending[next++]!;
      queue.push({ task, remaining: task.duration });
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
  for (const r of running) if (keepIntervals) intervals.push({ taskId: r.w.task.id, gpus: r.outcome.gpus, start: r.segStart, end: endTime });
  intervals.sort((a, b) => a.start - b.start || a.gpus[0]! - b.gpus[0]!);
  return { outcomes, intervals, endTime };
}
