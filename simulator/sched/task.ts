// Prefill tasks of the seed scheduling simulator: what a task is, the seed's constructor
// signature, and the outcome a simulator reports for it.
import { usageError } from '../../core/errors.ts';
import { getGpu } from '../hardware.ts';
import { prefillSeconds, type PrefillTimer } from './prefill-time.ts';

export interface PrefillTask {
  id: string;
  model: string;
  weight: number;
  /** Seconds since the start of the simulation. */
  arrival: number;
  tokens: number;
  /** Tensor-parallel degree: GPUs the task occupies. */
  tp: number;
  /** Seconds of service (prefill time from the cost model, or given for synthetic tasks). */
  duration: number;
  /** GPU memory per GPU in GB (the seed's third argument); must fit the H100's HBM, otherwise informational. */
  memoryGb?: number;
  /** Input order: the last tie-breaker of every ordering. */
  seq: number;
}

let nextSeq = 0;

/** The seed's `create_prefill_task(id, model, memory, weight, arrival, tokens, tp)`. */
export function createPrefillTask(
  id: string,
  model: string,
  memoryGb: number | undefined,
  weight: number,
  arrival: number,
  tokens: number,
  tp: number,
  timer: PrefillTimer = prefillSeconds,
  seq: number = nextSeq++,
): PrefillTask {
  if (!(weight > 0)) throw usageError(`task ${id}: weight must be > 0 (got ${weight})`);
  if (!(arrival >= 0)) throw usageError(`task ${id}: arrival must be ≥ 0 (got ${arrival})`);
  if (!Number.isInteger(tokens) || tokens <= 0) throw usageError(`task ${id}: tokens must be a positive whole number (got ${tokens})`);
  const hbm = getGpu('H100').hbmGB;
  if (memoryGb !== undefined && !(memoryGb > 0 && memoryGb <= hbm)) throw usageError(`task ${id}: memory ${memoryGb} GB per GPU does not fit an H100 (${hbm} GB)`);
  return { id, model, weight, arrival, tokens, tp, duration: timer(model, tokens, tp), memoryGb, seq };
}

/** A task with a given service time (queueing checks, tests). */
export function syntheticTask(seq: number, arrival: number, duration: number, weight = 1, tp = 1): PrefillTask {
  return { id: `j${seq}`, model: 'synthetic', weight, arrival, tokens: 0, tp, duration, seq };
}

/** The GPU list of a task that never started (shared; never modified). */
export const NO_GPUS: number[] = [];

/** What happened to a task in one simulation. */
export interface TaskOutcome {
  task: PrefillTask;
  /** Seconds; null when the task never started (or finished) before max time. */
  start: number | null;
  finish: number | null;
  /** Index of the TP group it ran on (first GPU / tp), and its GPUs. */
  group: number | null;
  gpus: number[];
  /** Times it was preempted (event-driven preemptive SRPT only). */
  preemptions: number;
}

export interface Interval {
  taskId: string;
  gpus: number[];
  start: number;
  end: number;
}

export interface SimResult {
  outcomes: TaskOutcome[];
  /** Busy intervals of GPU sets (one per task, several if preempted). */
  intervals: Interval[];
  /** Time the simulation stopped (last event or max time). */
  endTime: number;
}
