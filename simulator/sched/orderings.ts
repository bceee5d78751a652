// The four seed schedulers, written once as queue orderings: each is a comparison key over a
// waiting task; both simulators (discrete-time and event-driven) dispatch with selectNext().
import { choiceList, usageError } from '../../core/errors.ts';
import type { PrefillTask } from './task.ts';

export const SCHEDULERS = ['FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];
export const isSchedulerName = (x: string): x is SchedulerName => (SCHEDULERS as readonly string[]).includes(x);

export function schedulerName(x: string): SchedulerName {
  if (!isSchedulerName(x)) throw usageError(`--algorithms: ${choiceList(x, SCHEDULERS)}`);
  return x;
}

/** A task waiting in the queue; `remaining` is its outstanding service (less than duration only after a preemption). */
export interface Waiting {
  task: PrefillTask;
  remaining: number;
  /** Index of the task in the simulator's input (where its outcome is kept). */
  idx: number;
}

type Order = (a: Waiting, b: Waiting) => number;

/** Ties fall back to arrival, then input order, so every ordering is total and deterministic. */
const byArrival: Order = (a, b) => a.task.arrival - b.task.arrival || a.task.seq - b.task.seq;

export const ORDERINGS: { [K in SchedulerName]: { describe: string; compare: Order } } = {
  FIFO: { describe: 'arrival time', compare: byArrival },
  WeightedFIFO: { describe: 'weight (highest first), then arrival', compare: (a, b) => b.task.weight - a.task.weight || byArrival(a, b) },
  SRPT: { describe: 'shortest remaining processing time', compare: (a, b) => a.remaining - b.remaining || byArrival(a, b) },
  WSRPT: { describe: 'remaining time / weight (smallest first)', compare: (a, b) => a.remaining / a.task.weight - b.remaining / b.task.weight || byArrival(a, b) },
};

/** A waiting queue kept as a binary heap under one ordering: O(log n) per arrival and selection. */
export class TaskQueue {
  private heap: Waiting[] = [];
  private readonly cmp: Order;

  constructor(readonly scheduler: SchedulerName) {
    this.cmp = ORDERINGS[scheduler].compare;
  }

  get length(): number {
    return this.heap.length;
  }

  push(w: Waiting): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(h[i]!, h[p]!) >= 0) break;
      const tmp = h[i]!;
      h[i] = h[p]!;
      h[p] = tmp;
      i = p;
    }
  }

  peek(): Waiting | undefined {
    return this.heap[0];
  }

  /** Removes and returns the task the scheduler runs next. */
  pop(): Waiting | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.cmp(h[l]!, h[m]!) < 0) m = l;
        if (r < h.length && this.cmp(h[r]!, h[m]!) < 0) m = r;
        if (m === i) break;
        const tmp = h[i]!;
        h[i] = h[m]!;
        h[m] = tmp;
        i = m;
      }
    }
    return top;
  }
}

/** The seed's `scheduler.select_next(queue)`: the next task to start under the queue's ordering. */
export function selectNext(queue: TaskQueue): Waiting | undefined {
  return queue.pop();
}
