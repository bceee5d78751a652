// The seed scheduling simulator: orderings, the discriminating workload's result, and the
// agreement of the discrete-time loop with the event-driven engine.
import { describe, expect, it } from 'vitest';
import { simulateDiscrete } from '../../simulator/sched/discrete.ts';
import { simulateEvents } from '../../simulator/sched/event.ts';
import { seedMetrics } from '../../simulator/sched/metrics.ts';
import { SCHEDULERS, TaskQueue, selectNext, type SchedulerName } from '../../simulator/sched/orderings.ts';
import { mulberry32, type Rng } from '../../simulator/rng.ts';
import { discriminating, staggered } from '../../simulator/sched/workloads.ts';
import { createPrefillTask, syntheticTask, type PrefillTask, type SimResult } from '../../simulator/sched/task.ts';

const run = (mode: 'discrete' | 'event', tasks: PrefillTask[], scheduler: SchedulerName, gpus = 16, dt = 0.01): SimResult =>
  mode === 'discrete' ? simulateDiscrete(tasks, { gpus, scheduler, dt, maxTime: 5 }) : simulateEvents(tasks, { gpus, scheduler, maxTime: 5 });

describe('orderings (selectNext)', () => {
  const tasks = [
    syntheticTask(0, 0.0, 4, 1),
    syntheticTask(1, 0.1, 1, 1),
    syntheticTask(2, 0.2, 2, 10),
    syntheticTask(3, 0.3, 3, 10),
    syntheticTask(4, 0.3, 1, 1),
  ];
  const drain = (s: SchedulerName) => {
    const q = new TaskQueue(s);
    tasks.forEach((task, idx) => q.push({ task, remaining: task.duration, idx }));
    const ids: string[] = [];
    for (let w = selectNext(q); w; w = selectNext(q)) ids.push(w.task.id);
    return ids;
  };
  it('FIFO by arrival, then input order', () => expect(drain('FIFO')).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']));
  it('WeightedFIFO by weight, then arrival', () => expect(drain('WeightedFIFO')).toEqual(['j2', 'j3', 'j0', 'j1', 'j4']));
  it('SRPT by remaining time, ties by arrival', () => expect(drain('SRPT')).toEqual(['j1', 'j4', 'j2', 'j3', 'j0']));
  it('WSRPT by remaining/weight', () => expect(drain('WSRPT')).toEqual(['j2', 'j3', 'j1', 'j4', 'j0']));
});

describe('seed tasks', () => {
  it('resolves every seed model name and prices long prompts longer', () => {
    for (const [model, tp] of [['Llama3-8B', 1], ['Llama3-70B', 4], ['Qwen3', 2], ['DeepSeek-R1-32B', 2], ['DeepSeek-R1 70B', 4], ['Mixtral-8x7B', 2]] as const) {
      const short = createPrefillTask('a', model, undefined, 1, 0, 500, tp);
      const long = createPrefillTask('b', model, undefined, 1, 0, 2000, tp);
      expect(short.duration, model).toBeGreaterThan(0);
      expect(long.duration, model).toBeGreaterThan(short.duration);
    }
  });
  it('names the valid choices for an unknown model, a bad TP and a model that does not fit', () => {
    expect(() => createPrefillTask('a', 'Qwen4', 30, 1, 0, 500, 2)).toThrow(/Qwen3/);
    expect(() => createPrefillTask('a', 'Qwen3', 30, 1, 0, 500, 3)).toThrow(/valid TP degrees/);
    expect(() => createPrefillTask('a', 'Mixtral-8x7B', 30, 1, 0, 500, 1)).toThrow(/does not fit/);
    expect(() => createPrefillTask('a', 'Qwen3', 30, -1, 0, 500, 2)).toThrow(/weight/);
    expect(() => createPrefillTask('a', 'Qwen3', 120, 1, 0, 500, 2)).toThrow(/does not fit an H100/);
  });
});

describe('discriminating workload (the seed test)', () => {
  for (const mode of ['discrete', 'event'] as const) {
    it(`${mode}: priority-aware schedulers cut weighted waiting time vs FIFO`, () => {
      const m = Object.fromEntries(SCHEDULERS.map((s) => [s, seedMetrics(run(mode, discriminating(), s))]));
      for (const s of SCHEDULERS) expect(m[s]!.completed, s).toBe(20);
      for (const s of ['WeightedFIFO', 'SRPT', 'WSRPT']) {
        expect(m[s]!.weighted_waiting_time, s).toBeLessThan(0.5 * m.FIFO!.weighted_waiting_time);
      }
      expect(m.SRPT!.average_waiting_time).toBeLessThan(m.FIFO!.average_waiting_time);
    });
    it(`${mode}: FIFO starts T_low_1..8 at t=0, the others T_high_1..8`, () => {
      const startedAt0 = (s: SchedulerName) => run(mode, discriminating(), s).outcomes.filter((o) => o.start === 0).map((o) => o.task.id);
      expect(startedAt0('FIFO')).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `T_low_${i}`));
      for (const s of ['WeightedFIFO', 'SRPT', 'WSRPT'] as const) expect(startedAt0(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `T_high_${i}`));
    });
  }
  it('weighted waiting time is Σ w·(start − arrival), recomputed by hand', () => {
    const r = run('discrete', discriminating(), 'FIFO');
    const highs = r.outcomes.filter((o) => o.task.weight === 10).map((o) => o.start!);
    // FIFO: 8 highs start when the lows finish, 4 more one short prefill later (both on the dt grid).
    expect(new Set(highs.map((s) => s.toFixed(6))).size).toBe(2);
    expect(seedMetrics(r).weighted_waiting_time).toBeCloseTo(highs.reduce((a, s) => a + 10 * s, 0), 9);
  });
  it('max time cuts the run: unfinished tasks are not completed', () => {
    const m = seedMetrics(simulateDiscrete(discriminating(), { gpus: 16, scheduler: 'FIFO', dt: 0.01, maxTime: 0.12 }));
    expect(m.completed).toBeLessThan(20);
    expect(m.total).toBe(20);
  });
});

/** Tasks on a dyadic grid (dt = 1/64 s): every sum of times is exact in floating point. */
function gridTrace(rng: Rng, n: number, dt: number, allAtZero: boolean): PrefillTask[] {
  return Array.from({ length: n }, (_, i) => {
    const tp = [1, 2, 2, 4][Math.floor(rng.next() * 4)]!;
    const t = syntheticTask(i, allAtZero ? 0 : Math.floor(rng.next() * 40) * dt, (1 + Math.floor(rng.next() * 12)) * dt, rng.next() < 0.4 ? 10 : 1, tp);
    return t;
  });
}

describe('discrete-time vs event-driven', () => {
  it('agree exactly (per task start and finish) when arrivals and durations lie on the dt grid', () => {
    const dt = 1 / 64;
    const rng = mulberry32(11);
    for (let trial = 0; trial < 30; trial++) {
      const tasks = gridTrace(rng, 40, dt, false);
      for (const s of SCHEDULERS) {
        const d = simulateDiscrete(tasks, { gpus: 8, scheduler: s, dt, maxTime: 100 });
        const e = simulateEvents(tasks, { gpus: 8, scheduler: s, maxTime: 100 });
        d.outcomes.forEach((o, i) => {
          expect(o.start, `${s} trial ${trial} ${o.task.id}`).toBe(e.outcomes[i]!.start);
          expect(o.finish).toBe(e.outcomes[i]!.finish);
        });
      }
    }
  });

  it('off the grid (all tasks at t=0), each task lags by at most r·dt, r = the discrete loop’s dispatch rounds before its start', () => {
    // Each round of the discrete loop starts up to one dt after the exact completion that freed its GPUs,
    // and the lags of successive rounds add up; a task in the second round (as in the seed test) is within dt.
    const rng = mulberry32(12);
    const dt = 0.01;
    const cases: [PrefillTask[], number][] = [[discriminating(), 16]];
    for (let trial = 0; trial < 40; trial++) {
      const gpus = [4, 8, 16][trial % 3]!;
      cases.push([Array.from({ length: 30 }, (_, i) => syntheticTask(i, 0, 0.001 + rng.next() * 0.2, rng.next() < 0.4 ? 10 : 1, 2)), gpus]);
    }
    for (const [tasks, gpus] of cases) {
      for (const s of SCHEDULERS) {
        const d = simulateDiscrete(tasks, { gpus, scheduler: s, dt, maxTime: 100 });
        const e = simulateEvents(tasks, { gpus, scheduler: s, maxTime: 100 });
        const rounds = [...new Set(d.outcomes.map((o) => o.start!))].sort((x, y) => x - y);
        d.outcomes.forEach((o, i) => {
          const r = rounds.indexOf(o.start!);
          const lag = o.start! - e.outcomes[i]!.start!;
          expect(lag, `${s} ${o.task.id}`).toBeGreaterThanOrEqual(-1e-9);
          expect(lag, `${s} ${o.task.id} round ${r}`).toBeLessThanOrEqual(r * dt + 1e-9);
          expect(o.finish! - e.outcomes[i]!.finish!).toBeCloseTo(lag, 9);
        });
      }
    }
  });

  it('the seed test: tasks in the second round are within dt of the exact start', () => {
    for (const s of SCHEDULERS) {
      const d = run('discrete', discriminating(), s);
      const e = run('event', discriminating(), s);
      const second = Math.min(...d.outcomes.filter((o) => o.start! > 0).map((o) => o.start!));
      d.outcomes.forEach((o, i) => {
        if (o.start! <= second) expect(o.start! - e.outcomes[i]!.start!).toBeLessThanOrEqual(0.01 + 1e-9);
      });
    }
  });

  it('the staggered workload completes under both, with SRPT/WSRPT ahead of FIFO on their own metric', () => {
    for (const mode of ['discrete', 'event'] as const) {
      const m = Object.fromEntries(SCHEDULERS.map((s) => [s, seedMetrics(run(mode, staggered(), s))]));
      for (const s of SCHEDULERS) expect(m[s]!.completed).toBe(staggered().length);
      expect(m.WSRPT!.weighted_waiting_time).toBeLessThan(m.FIFO!.weighted_waiting_time);
      expect(m.SRPT!.average_waiting_time).toBeLessThan(m.FIFO!.average_waiting_time);
    }
  });
});
