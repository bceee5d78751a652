// Tests of the cluster routers (simulator/cluster.ts): round-robin, least-outstanding, JSQ,
// seeded power-of-two, the error on a bad name, and a burst balanced across replicas.
import { describe, expect, it } from 'vitest';
import { type ReplicaLoad, createCluster, createRouter } from '../../simulator/cluster.ts';
import type { EngineRequest } from '../../simulator/types.ts';
import { recorder, simpleCost } from './engine-helpers.ts';

const req = (i: number): EngineRequest => ({ id: `r${i}`, arrival: 0, promptTokens: 10, maxTokens: 5 });
const loads = (outstanding: number[], waiting = outstanding.map(() => 0), tokens = outstanding): ReplicaLoad[] =>
  outstanding.map((o, i) => ({ outstanding: () => o, waitingCount: () => waiting[i]!, outstandingTokens: () => tokens[i]! }));

describe('cluster routers', () => {
  it('round-robin cycles through the replicas', () => {
    const r = createRouter('round-robin');
    const reps = loads([5, 0, 9]);
    expect(Array.from({ length: 7 }, (_, i) => r.pick(req(i), reps))).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('least-outstanding and JSQ pick the shortest (lowest index on ties)', () => {
    expect(createRouter('least-outstanding').pick(req(0), loads([3, 1, 1]))).toBe(1);
    expect(createRouter('jsq').pick(req(0), loads([1, 9, 5], [2, 0, 0]))).toBe(2);
    expect(createRouter('jsq-tokens').pick(req(0), loads([1, 1, 1], undefined, [900, 100, 400]))).toBe(1);
  });

  it('power-of-two picks the less loaded of two seeded samples, reproducibly', () => {
    const reps = loads([0, 5, 5, 5]);
    const a = createRouter('power-of-two', 7);
    const b = createRouter('power-of-two', 7);
    const picks = Array.from({ length: 50 }, (_, i) => a.pick(req(i), reps));
    expect(Array.from({ length: 50 }, (_, i) => b.pick(req(i), reps))).toEqual(picks);
    // Replica 0 wins whenever it is sampled: about half the time (2 of 4 in each pair), never worse.
    const zeros = picks.filter((p) => p === 0).length;
    expect(zeros).toBeGreaterThan(15);
    expect(zeros).toBeLessThan(40);
  });

  it('names the valid routers on a bad name', () => {
    expect(() => createRouter('round-robbin')).toThrow(/'round-robbin' is not one of .*did you mean 'round-robin'/);
  });

  it('a cluster with least-outstanding balances a burst', () => {
    const c = createCluster({ replicas: 3, router: 'least-outstanding', engine: { cost: simpleCost(), kvBlocks: 100 } }, () => recorder().listener);
    const placed = Array.from({ length: 9 }, (_, i) => c.add(req(i)));
    expect(placed).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    c.advanceTo(Infinity);
    expect(c.replicas.map((r) => r.outstanding())).toEqual([0, 0, 0]);
  });
});
