// Tests of the LoRA slots (simulator/engine/lora.ts): LRU eviction of idle adapters, the per-batch
// adapter limit, and the swap time added to the admitting step.
import { describe, expect, it } from 'vitest';
import { LoraManager, createEngine } from '../../simulator/engine/index.ts';
import { recorder, simpleCost } from './engine-helpers.ts';

const cfg = { maxLoras: 2, gpuLoras: 3, adapterBytes: 64e6, pcieBytesPerSec: 64e9, rank: 16 };

describe('LoRA slots', () => {
  it('evicts the least recently used idle adapter', () => {
    const m = new LoraManager(cfg);
    for (const a of ['a', 'b', 'c']) {
      expect(m.acquire(a)).toBeCloseTo(0.001, 12); // 64 MB over 64 GB/s
      m.release(a);
    }
    expect(m.acquire('a')).toBe(0); // hit; a becomes most recent
    m.release('a');
    m.acquire('d'); // evicts b (least recent)
    expect(m.evicted).toEqual(['b']);
    expect(m.residentList()).toEqual(['c', 'a', 'd']);
    m.acquire('c'); // c in use now, so e evicts a, not c
    m.acquire('e');
    expect(m.evicted).toEqual(['b', 'a']);
    expect(m.stats).toMatchObject({ hits: 2, misses: 5, evictions: 2 });
  });

  it('limits distinct adapters per batch', () => {
    const m = new LoraManager(cfg);
    m.acquire('a');
    m.acquire('b');
    expect(m.canJoin('a')).toBe(true);
    expect(m.canJoin('c')).toBe(false);
    m.release('b');
    expect(m.canJoin('c')).toBe(true);
    expect(() => new LoraManager({ ...cfg, gpuLoras: 1 })).toThrow(/gpuLoras: 1/);
  });

  it('adds the swap time to the admitting step and keeps a third adapter waiting', () => {
    const { listener, rec } = recorder();
    const swaps: number[] = [];
    const e = createEngine({ cost: simpleCost(), kvBlocks: 100, lora: cfg }, { ...listener, onStep: (s) => void swaps.push(s.swapSeconds ?? 0) });
    e.add({ id: 'x', arrival: 0, promptTokens: 10, maxTokens: 3, adapter: 'a' });
    e.add({ id: 'y', arrival: 0, promptTokens: 10, maxTokens: 3, adapter: 'b' });
    e.add({ id: 'z', arrival: 0, promptTokens: 10, maxTokens: 3, adapter: 'c' });
    e.advanceTo(Infinity);
    expect(swaps[0]).toBeCloseTo(0.002, 12);
    // First step: two adapters load, prefill of 20 tokens.
    expect(rec.tokens[0]![1]).toBeCloseTo(0.002 + 0.005 + 2e-5 * 20, 12);
    // z waits until x or y leaves the batch.
    const zStart = rec.scheduled.find(([id]) => id === 'z')![1];
    expect(zStart).toBeGreaterThanOrEqual(rec.finished.get('x')!.t);
    expect(e.lora!.stats.misses).toBe(3);
  });
});
