// GPU contention between model instances sharing device IDs: the time-slicing rule, on the
// serving-model engines offline (manual time), and the config forms that ask for it.
import { describe, expect, it } from 'vitest';
import { engineConfig, servingModelFactory } from '../../simulator/server/engine-factory.ts';
import { GpuShare, replicaGpuIds } from '../../simulator/server/gpu-share.ts';
import { configFromObject, presetConfigs } from '../../simulator/server/presets.ts';
import type { CostModel, EngineListener } from '../../simulator/types.ts';

function firstTokenTimes(): { listener: EngineListener; first: Map<string, number> } {
  const first = new Map<string, number>();
  return { first, listener: { onTokens: (id, t) => void (first.has(id) || first.set(id, t)), onFinish: () => {} } };
}

describe('GpuShare', () => {
  it('k counts busy tenants on overlapping GPUs, itself included', () => {
    const s = new GpuShare();
    const a = s.register('a', [0, 1]);
    const b = s.register('b', [1]);
    const c = s.register('c', [2]);
    expect(s.slowdown(a)).toBe(1);
    b.busy = () => true;
    c.busy = () => true;
    expect(s.slowdown(a)).toBe(2);
    expect(s.slowdown(c)).toBe(1);
    const base: CostModel = { stepTime: () => ({ seconds: 0.01, breakdown: { gemm: 0.01 }, bottleneck: 'compute' }) };
    const cm = s.costModel(base, a);
    const st = cm.stepTime({ prefillSeqs: 1, prefillTokens: 1, prefillAttnWork: 1, decodeSeqs: 0, decodeCtxSum: 0 });
    expect(st.seconds).toBeCloseTo(0.02, 12);
    expect(st.breakdown.gpu_share).toBeCloseTo(0.01, 12);
    expect(replicaGpuIds([4, 5, 6, 7], 1, 2)).toEqual([6, 7]);
  });

  it("one model's load raises the other's first-token time on a shared GPU, not on separate ones", () => {
    const run = (preset: string) => {
      const [thinker, flash] = presetConfigs(preset, { port: 0 });
      const share = new GpuShare();
      const ft = firstTokenTimes();
      const et = servingModelFactory(thinker!, share)(0, ft.listener);
      const ef = servingModelFactory(flash!, share)(0, firstTokenTimes().listener);
      // Flash is busy decoding long outputs; then Thinker gets one prompt
      for (let i = 0; i < 4; i++) ef.add({ id: `f${i}`, arrival: 0, promptTokens: 100, maxTokens: 2000, ignoreEos: true });
      ef.advanceTo(0.5);
      et.add({ id: 't', arrival: 0.5, promptTokens: 500, maxTokens: 4, ignoreEos: true });
      for (let t = 0.5; t < 2; t += 0.001) {
        et.advanceTo(t);
        ef.advanceTo(t);
      }
      return ft.first.get('t')! - 0.5;
    };
    const separate = run('mixed-warfare');
    const shared = run('mixed-warfare-shared');
    expect(shared).toBeGreaterThan(1.5 * separate);
  });

  it('a config entry says `gpus: [0]`; bad device lists name the field', () => {
    const c = configFromObject({ name: 'Flash', gpus: [0] }, 'mw.yaml');
    expect(c.gpus).toBe(1);
    expect(c.gpuIds).toEqual([0]);
    expect(() => configFromObject({ gpus: [0, 0] }, 'mw.yaml')).toThrow(/mw.yaml: gpus: device IDs repeat/);
    expect(() => configFromObject({ gpus: [-1] }, 'mw.yaml')).toThrow(/whole numbers ≥ 0/);
    expect(engineConfig(c, 0).maxNumSeqs).toBeGreaterThan(0);
  });
});
