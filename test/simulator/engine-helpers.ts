// Test helpers for the token-level engine: a deterministic affine cost model and a listener
// that records every callback, so tests compare exact times.
import type { BatchShape, CostModel, EngineListener, FinishInfo, FinishReason } from '../../simulator/types.ts';

/** seconds = 5 ms + 20 µs·prefill token + 10 ns·ctx token + 50 µs·decode seq (affine in Σctx). */
export function simpleCost(): CostModel {
  return {
    stepTime(s: BatchShape) {
      const seconds = 0.005 + 2e-5 * s.prefillTokens + 1e-8 * s.decodeCtxSum + 5e-5 * s.decodeSeqs;
      return { seconds, breakdown: { total: seconds }, bottleneck: 'memory' };
    },
  };
}

export interface Recorded {
  tokens: [string, number][];
  finished: Map<string, { t: number; reason: FinishReason; info?: FinishInfo }>;
  preempted: [string, number][];
  scheduled: [string, number][];
  stretches: number;
  steps: number;
}

export function recorder(): { listener: EngineListener; rec: Recorded } {
  const rec: Recorded = { tokens: [], finished: new Map(), preempted: [], scheduled: [], stretches: 0, steps: 0 };
  const listener: EngineListener = {
    onTokens: (id, t, n) => {
      for (let i = 0; i < n; i++) rec.tokens.push([id, t]);
    },
    onFinish: (id, t, reason, info) => void rec.finished.set(id, { t, reason, info }),
    onPreempt: (id, t) => void rec.preempted.push([id, t]),
    onScheduled: (id, t) => void rec.scheduled.push([id, t]),
    onStep: (s) => {
      rec.steps += s.steps ?? 1;
      if ((s.steps ?? 1) > 1) rec.stretches++;
    },
  };
  return { listener, rec };
}
