// Tests of the paged KV cache (simulator/engine/kv.ts): 16-token blocks, the admission watermark,
// decode growth, and preemption (newest first under FCFS, lowest priority under priority).
import { describe, expect, it } from 'vitest';
import { BlockManager, createEngine } from '../../simulator/engine/index.ts';
import { recorder, simpleCost } from './engine-helpers.ts';

describe('paged KV cache', () => {
  it('counts 16-token blocks and keeps the watermark on admission', () => {
    const kv = new BlockManager(100, 16, 0.05);
    expect(kv.blocksFor(16)).toBe(1);
    expect(kv.blocksFor(17)).toBe(2);
    expect(kv.watermarkBlocks).toBe(5);
    kv.allocate(90);
    expect(kv.canAdmit(5, true)).toBe(true);
    expect(kv.canAdmit(6, true)).toBe(false);
    expect(kv.canAdmit(10, false)).toBe(true);
    expect(() => kv.allocate(11)).toThrow(/11 blocks with 10 free/);
    kv.release(90);
    expect(kv.usage()).toBe(0);
    expect(() => new BlockManager(0)).toThrow(/kvBlocks: 0/);
  });

  it('takes a new block every 16 tokens of decode', () => {
    const { listener } = recorder();
    const usage: number[] = [];
    const e = createEngine({ cost: simpleCost(), kvBlocks: 100, closedForm: false }, { ...listener, onStep: (s) => void usage.push(Math.round(s.kvUsage * 100)) });
    e.add({ id: 'a', arrival: 0, promptTokens: 16, maxTokens: 40 });
    e.advanceTo(Infinity);
    // prompt 16 → 1 block; decode step k computes token 16+k−1 → a new block at k = 1, 17, 33.
    expect(usage.slice(0, 3)).toEqual([1, 2, 2]);
    expect(usage[16]).toBe(2);
    expect(usage[17]).toBe(3);
    expect(usage.at(-1)).toBe(0); // all freed at the end
  });

  it('preempts the newest running request first (FCFS) and re-prefills it', () => {
    const { listener, rec } = recorder();
    // 12 blocks: three requests of 3 blocks each fit, then decode growth forces preemption.
    const e = createEngine({ cost: simpleCost(), kvBlocks: 12, watermark: 0, closedForm: false }, listener);
    for (const id of ['a', 'b', 'c']) e.add({ id, arrival: 0, promptTokens: 40, maxTokens: 60 });
    e.advanceTo(Infinity);
    expect(rec.preempted.length).toBeGreaterThan(0);
    expect(rec.preempted[0]![0]).toBe('c');
    // Every request still completes with all its tokens, in order.
    for (const id of ['a', 'b', 'c']) {
      expect(rec.finished.get(id)!.info!.outputTokens).toBe(60);
      expect(rec.tokens.filter(([x]) => x === id)).toHaveLength(60);
    }
    expect(rec.finished.get('c')!.info!.preemptions).toBeGreaterThan(0);
    expect(rec.finished.get('a')!.info!.preemptions).toBe(0);
  });

  it('under the priority policy preempts the lowest priority', () => {
    const { listener, rec } = recorder();
    const e = createEngine({ cost: simpleCost(), kvBlocks: 12, watermark: 0, policy: 'priority', closedForm: false }, listener);
    e.add({ id: 'a', arrival: 0, promptTokens: 40, maxTokens: 60, priority: 9 });
    e.add({ id: 'b', arrival: 0, promptTokens: 40, maxTokens: 60, priority: 0 });
    e.add({ id: 'c', arrival: 0, promptTokens: 40, maxTokens: 60, priority: 1 });
    e.advanceTo(Infinity);
    expect(rec.preempted[0]![0]).toBe('a');
  });
});
