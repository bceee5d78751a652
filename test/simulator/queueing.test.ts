// Queueing-theory validation of the event-driven scheduling engine: Little's law on every run,
// Erlang C and Pollaczek–Khinchine within replicated 95% CIs, SRPT vs FIFO, determinism.
import { describe, expect, it } from 'vitest';
import { simulateDiscrete } from '../../simulator/sched/discrete.ts';
import { simulateEvents } from '../../simulator/sched/event.ts';
import { SCHEDULERS } from '../../simulator/sched/orderings.ts';
import { mulberry32 } from '../../simulator/rng.ts';
import { QUEUE_CASES, checkQueue, erlangC, littleCheck, poissonTrace, theoreticalWq } from '../../simulator/sched/queueing.ts';
import { syntheticTask, type SimResult } from '../../simulator/sched/task.ts';
import { discriminating, staggered } from '../../simulator/sched/workloads.ts';

function expectLittle(r: SimResult, what: string) {
  const c = littleCheck(r);
  const close = (a: number, b: number, field: string) => expect(Math.abs(a - b), `${what}: ${field} ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
  close(c.areaInSystem, c.sumSojourn, 'L·T = λW·T');
  close(c.areaInQueue, c.sumWait, 'Lq·T = λWq·T');
  if (r.intervals.length) close(c.busyGpuSeconds, c.work, 'busy GPU-seconds = work');
}

describe('formulas', () => {
  it('Erlang C matches hand values (c=1 is ρ; c=2, a=1 is 1/3)', () => {
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7, 12);
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    expect(theoreticalWq({ name: 'M/D/1', servers: 1, rho: 0.5, service: { kind: 'det' } })).toBeCloseTo(0.5, 12);
  });
});

describe("Little's law holds exactly on every run", () => {
  it('seed workloads, every scheduler, both simulators', () => {
    for (const tasks of [discriminating(), staggered()]) {
      for (const s of SCHEDULERS) {
        expectLittle(simulateDiscrete(tasks, { gpus: 16, scheduler: s, dt: 0.01, maxTime: 5 }), `discrete ${s}`);
        expectLittle(simulateEvents(tasks, { gpus: 16, scheduler: s, maxTime: 5 }), `event ${s}`);
        expectLittle(simulateEvents(tasks, { gpus: 16, scheduler: s, maxTime: 5, preemptive: true }), `preemptive ${s}`);
      }
    }
  });
  it('Poisson traces at every load', () => {
    for (const q of QUEUE_CASES) {
      for (const s of SCHEDULERS) expectLittle(simulateEvents(poissonTrace(q, 2000, 3), { gpus: q.servers, scheduler: s, maxTime: Infinity }), `${q.name} ${s}`);
    }
  });
});

describe('FIFO agrees with queueing theory within the 95% CI of replicated runs', () => {
  // Replications × jobs per run grow with the load (the variance of the mean wait grows as 1/(1−ρ)⁴).
  const plan = (rho: number): [number, number] => (rho < 0.6 ? [6, 8_000] : rho < 0.9 ? [8, 12_000] : [10, 30_000]);
  for (const q of QUEUE_CASES) {
    it(q.name, () => {
      const [reps, jobs] = plan(q.rho);
      const r = checkQueue(q, jobs, reps, 1);
      expect(r.covered, `W_q theory ${r.theory.toFixed(4)}, simulated ${r.mean.toFixed(4)} ± ${r.halfWidth.toFixed(4)}`).toBe(true);
    });
  }
});

describe('SRPT vs FIFO on the same trace', () => {
  const meanResponse = (r: SimResult) => r.outcomes.reduce((a, o) => a + o.finish! - o.task.arrival, 0) / r.outcomes.length;
  it('preemptive SRPT never has a larger mean response than FIFO on one server (Schrage), on 200 random traces', () => {
    const rng = mulberry32(21);
    for (let trial = 0; trial < 200; trial++) {
      let t = 0;
      const heavy = trial % 2 === 0;
      const tasks = Array.from({ length: 60 }, (_, i) => {
        t += rng.exp() / 0.9;
        const size = heavy ? Math.pow(1 - rng.next(), -1 / 1.5) / 3 : rng.exp();
        return syntheticTask(i, t, size);
      });
      const fifo = meanResponse(simulateEvents(tasks, { gpus: 1, scheduler: 'FIFO', maxTime: Infinity }));
      const srpt = meanResponse(simulateEvents(tasks, { gpus: 1, scheduler: 'SRPT', maxTime: Infinity, preemptive: true }));
      expect(srpt, `trial ${trial}`).toBeLessThanOrEqual(fifo + 1e-9);
    }
  });
  it('SRPT (non-preemptive, as the seed) never loses to FIFO on batches released together (SPT is optimal for P||ΣC)', () => {
    const rng = mulberry32(22);
    for (let trial = 0; trial < 100; trial++) {
      const tasks = Array.from({ length: 40 }, (_, i) => syntheticTask(i, 0, 0.01 + rng.next() * rng.next()));
      for (const gpus of [1, 3, 8]) {
        const fifo = meanResponse(simulateEvents(tasks, { gpus, scheduler: 'FIFO', maxTime: Infinity }));
        const srpt = meanResponse(simulateEvents(tasks, { gpus, scheduler: 'SRPT', maxTime: Infinity }));
        expect(srpt).toBeLessThanOrEqual(fifo + 1e-9);
      }
    }
  });
});

describe('determinism', () => {
  it('the same seed gives byte-identical outcomes; another seed does not', () => {
    const q = QUEUE_CASES[0]!;
    const once = (seed: number) => JSON.stringify(simulateEvents(poissonTrace(q, 3000, seed), { gpus: q.servers, scheduler: 'WSRPT', maxTime: Infinity }));
    expect(once(5)).toBe(once(5));
    expect(once(5)).not.toBe(once(6));
  });
});
