// Tests of the token-level engine (simulator/engine/): closed-form and lazy decode agree with step
// by step, aborts, a hand-checkable golden trace, stop conditions, chunked prefill, online adds.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../simulator/engine/index.ts';
import type { EngineRequest } from '../../simulator/types.ts';
import { recorder, simpleCost } from './engine-helpers.ts';

/** Drives an engine as the offline runner does: advance to each arrival, add, then finish. */
function drive(reqs: EngineRequest[], cfg: Partial<Parameters<typeof createEngine>[0]> = {}) {
  const { listener, rec } = recorder();
  const e = createEngine({ cost: simpleCost(), kvBlocks: 1000, ...cfg }, listener);
  for (const r of reqs) {
    e.advanceTo(r.arrival);
    e.add(r);
  }
  e.advanceTo(Infinity);
  return { e, rec };
}

const workload = (n: number, gap: number): EngineRequest[] =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, arrival: i * gap, promptTokens: 30 + ((i * 53) % 120), maxTokens: 40 + ((i * 37) % 160) }));

describe('token-level engine', () => {
  it('closed-form decode stretches give the same token times as step by step (with preemptions)', () => {
    for (const kvBlocks of [1000, 40]) {
      const reqs = workload(30, 0.2);
      const a = drive(reqs, { closedForm: false, kvBlocks });
      const b = drive(reqs, { closedForm: true, kvBlocks });
      expect(a.rec.stretches).toBe(0);
      expect(b.rec.stretches).toBeGreaterThan(0);
      expect(b.rec.tokens).toEqual(a.rec.tokens);
      expect([...b.rec.finished]).toEqual([...a.rec.finished]);
      expect(b.rec.preempted).toEqual(a.rec.preempted);
      expect(b.rec.steps).toBe(a.rec.steps);
      if (kvBlocks === 40) expect(a.rec.preempted.length).toBeGreaterThan(0);
    }
  });

  it('lazy decode tracking (no per-token events) finishes every request exactly as eager step-by-step', () => {
    const run = (lazyDecode: boolean, kvBlocks: number, maxNumBatchedTokens: number, gap: number) => {
      const fin: string[] = [];
      let stretches = 0;
      const e = createEngine(
        { cost: simpleCost(), kvBlocks, maxNumBatchedTokens, maxNumSeqs: 64, tokenEvents: false, lazyDecode, closedForm: lazyDecode },
        {
          onTokens: () => {},
          onFinish: (id, t, reason, info) => void fin.push(JSON.stringify([id, t, reason, info])),
          onStep: (s) => void (stretches += (s.steps ?? 1) > 1 ? 1 : 0),
        },
      );
      for (let i = 0; i < 150; i++) {
        e.advanceTo(i * gap);
        e.add({ id: `r${i}`, arrival: i * gap, promptTokens: 20 + ((i * 53) % 300), maxTokens: 10 + ((i * 37) % 250) });
      }
      e.advanceTo(Infinity);
      return { fin: fin.sort(), stretches, stats: e.stats() };
    };
    // roomy; KV-bound (preemptions); budget-bound (eager fallback)
    for (const [kv, budget, gap] of [[100000, 8192, 0.2], [60, 8192, 0.013], [200, 64, 0.013]] as const) {
      const eager = run(false, kv, budget, gap);
      const lazy = run(true, kv, budget, gap);
      expect(lazy.fin).toEqual(eager.fin);
      expect(lazy.stats).toEqual(eager.stats);
      expect(eager.stretches).toBe(0);
      if (kv === 60) expect(eager.stats.preemptions).toBeGreaterThan(0);
      if (kv === 100000) expect(lazy.stretches).toBeGreaterThan(0);
    }
  });

  it('aborts lazily tracked decoders in flight and at rest, freeing their blocks', () => {
    const fin = new Map<string, { reason: string; out: number }>();
    const e = createEngine({ cost: simpleCost(), kvBlocks: 100, tokenEvents: false }, {
      onTokens: () => {},
      onFinish: (id, _t, reason, info) => void fin.set(id, { reason, out: info!.outputTokens }),
    });
    for (const id of ['a', 'b', 'c']) e.add({ id, arrival: 0, promptTokens: 20, maxTokens: 100 });
    e.advanceTo(0.1);
    e.nextEventTime(); // a step in flight
    e.abort('a');
    e.advanceTo(0.2);
    expect(fin.get('a')?.reason).toBe('abort');
    e.advanceTo(e.nextEventTime()!); // at rest, no step in flight
    e.abort('b');
    expect(fin.get('b')?.reason).toBe('abort');
    expect(fin.get('b')!.out).toBeGreaterThan(fin.get('a')!.out);
    e.advanceTo(Infinity);
    expect(fin.get('c')).toEqual({ reason: 'length', out: 100 });
    expect(e.stats()).toMatchObject({ running: 0, kvUsage: 0 });
  });

  it('golden tiny trace: token times checkable by hand', () => {
    // simpleCost: 5 ms + 20 µs/prefill token + 10 ns/ctx token + 50 µs/decode seq.
    const { rec } = drive([
      { id: 'a', arrival: 0, promptTokens: 10, maxTokens: 3 },
      { id: 'b', arrival: 0.001, promptTokens: 20, maxTokens: 2 },
    ]);
    const s1 = 0.005 + 2e-5 * 10; // a's prefill
    const s2 = s1 + (0.005 + 2e-5 * 20 + 1e-8 * 10 + 5e-5); // a decodes (ctx 10), b's prefill joins
    const s3 = s2 + (0.005 + 1e-8 * (11 + 20) + 2 * 5e-5); // both decode
    const t = rec.tokens;
    expect(t.map(([id]) => id)).toEqual(['a', 'a', 'b', 'a', 'b']);
    [s1, s2, s2, s3, s3].forEach((x, i) => expect(t[i]![1]).toBeCloseTo(x, 12));
    expect(rec.finished.get('a')!.t).toBeCloseTo(s3, 12);
    expect(rec.scheduled).toEqual([['a', 0], ['b', s1]]);
  });

  it('stops at EOS, honours min_tokens, and stops at max_tokens with length', () => {
    const { rec } = drive([
      { id: 'eos', arrival: 0, promptTokens: 10, maxTokens: 50, naturalTokens: 5 },
      { id: 'min', arrival: 0, promptTokens: 10, maxTokens: 50, naturalTokens: 5, minTokens: 12 },
      { id: 'len', arrival: 0, promptTokens: 10, maxTokens: 8, naturalTokens: 30 },
      { id: 'ign', arrival: 0, promptTokens: 10, maxTokens: 9, naturalTokens: 3, ignoreEos: true },
    ]);
    const f = (id: string) => rec.finished.get(id)!;
    expect([f('eos').reason, f('eos').info!.outputTokens]).toEqual(['stop', 5]);
    expect([f('min').reason, f('min').info!.outputTokens]).toEqual(['stop', 12]);
    expect([f('len').reason, f('len').info!.outputTokens]).toEqual(['length', 8]);
    expect([f('ign').reason, f('ign').info!.outputTokens]).toEqual(['length', 9]);
    expect(rec.tokens.filter(([id]) => id === 'min')).toHaveLength(12);
  });

  it('chunks a long prompt over the token budget, running requests first', () => {
    const { rec } = drive([{ id: 'long', arrival: 0, promptTokens: 1000, maxTokens: 2 }], { maxNumBatchedTokens: 256 });
    // 1000 tokens at 256 per step: 4 prefill steps, the first token at the end of the 4th.
    const cost = (t: number) => 0.005 + 2e-5 * t;
    const firstToken = cost(256) * 3 + cost(232);
    expect(rec.tokens[0]![1]).toBeCloseTo(firstToken, 12);
    expect(rec.steps).toBe(5);
  });

  it('online: a request added at t joins the step that starts at t, and steps are exact', () => {
    const { listener, rec } = recorder();
    const e = createEngine({ cost: simpleCost(), kvBlocks: 100 }, listener);
    expect(e.nextEventTime()).toBeUndefined();
    e.add({ id: 'a', arrival: 1, promptTokens: 10, maxTokens: 3 });
    e.add({ id: 'b', arrival: 1, promptTokens: 10, maxTokens: 3 });
    const end = e.nextEventTime()!;
    expect(end).toBeCloseTo(1 + 0.005 + 2e-5 * 20, 12);
    e.advanceTo(end - 1e-9);
    expect(rec.tokens).toHaveLength(0);
    e.advanceTo(end);
    expect(rec.tokens).toEqual([['a', end], ['b', end]]);
    expect(e.stats().running).toBe(2);
    e.advanceTo(100);
    expect(rec.finished.size).toBe(2);
    expect(e.nextEventTime()).toBeUndefined();
  });

  it('priority policy admits the lowest priority value first', () => {
    const { rec } = drive(
      [
        { id: 'first', arrival: 0, promptTokens: 10, maxTokens: 2 },
        { id: 'low', arrival: 0.001, promptTokens: 10, maxTokens: 2, priority: 5 },
        { id: 'high', arrival: 0.002, promptTokens: 10, maxTokens: 2, priority: -1 },
      ],
      { policy: 'priority', maxNumSeqs: 1 },
    );
    expect(rec.scheduled.map(([id]) => id)).toEqual(['first', 'high', 'low']);
  });

  it('aborts a waiting request and a prompt that cannot fit', () => {
    const { listener, rec } = recorder();
    const e = createEngine({ cost: simpleCost(), kvBlocks: 4 }, listener);
    e.add({ id: 'huge', arrival: 0, promptTokens: 100, maxTokens: 2 });
    expect(rec.finished.get('huge')!.reason).toBe('abort');
    expect(rec.finished.get('huge')!.info!.error).toMatch(/does not fit/);
    e.add({ id: 'x', arrival: 0, promptTokens: 10, maxTokens: 2 });
    e.abort('x');
    expect(rec.finished.get('x')!.reason).toBe('abort');
    expect(e.stats().waiting).toBe(0);
    expect(() => e.add({ id: 'bad', arrival: 0, promptTokens: -3, maxTokens: 2 })).toThrow(/promptTokens -3/);
  });
});
