// The four seed schedulers, written once as queue orderings: each is a comparison key over a
// waiting task; both simulators (discrete-time and event-driven) dispatch with selectNext().
import { choiceList, usageError } from '../../core/errors.ts';
import { Heap } from '../engine/heap.ts';
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
  private readonly heap: Heap<Waiting>;

  constructor(readonly scheduler: SchedulerName) {
    const cmp = ORDERINGS[scheduler].compare;
    this.heap = new Heap((a, b) => cmp(a, b) < 0);
  }

  get length(): number {
    return this.heap.size;
  }

  push(w: Waiting): void {
    this.heap.push(w);
  }

  peek(): Waiting | undefined {
    return this.heap.peek();
  }

  /** Removes and returns the task the scheduler runs next. */
  pop(): Waiting | undefined {
    return this.heap.pop();
  }
}

/** The seed's `scheduler.select_next(queue)`: the next task to start under the queue's ordering. */
export function selectNext(queue: TaskQueue): Waiting | undefined {
  return queue.pop();
}
