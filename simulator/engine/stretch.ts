// Closed-form decode stretches: when nothing can change for q steps (no arrival before t, no
// completion, no block shortage, no prefill), the q steps run at once. Step times come from the
// same cost calls, in the same order, as step by step, so token times are identical.
import type { Bottleneck } from '../types.ts';
import type { EngineCore } from './core.ts';
import { stepsWithinFreeBlocks } from './kv.ts';

/** The step just formed is pure decode of every running request, with nothing that could change. */
export function stretchable(e: EngineCore): boolean {
  if (!e.config.closedForm || e.moe) return false;
  if (e.curPrefill > 0 || e.curPreempted > 0 || e.curSwap > 0) return false;
  if (e.curFast ? e.lz.prefilling.length > 0 : e.curBatch !== e.running.length) return false;
  const head = e.waiting.peek();
  return !head || head.req.arrival <= e.curStart;
}

/**
 * The lazy form of a stretch: q ≥ 2 fast decode steps ending by t, before any decoder
 * finishes, whose blocks fit. O(q) scalar work (one cost call per step, as step by step)
 * and nothing per request.
 */
export function stretchLazy(e: EngineCore, t: number): boolean {
  const lz = e.lz;
  const finishAt = lz.nextFinishAt();
  const D = lz.D;
  if (finishAt === undefined || D === 0) return false;
  const plan = planStretch(e, finishAt - lz.ds - 1, t, D, lz.sumC, 0, (j) => lz.blocksAt(j));
  if (!plan) return false;
  const { q, last } = plan;
  e.kv.allocate(plan.alloc);
  lz.advance(q);
  endStretch(e, q, D, last, plan.bottleneck);
  return true;
}

/**
 * Runs q ≥ 2 decode steps at once: steps that end by t, before any request finishes, whose
 * block allocations all fit (so no preemption). Per-request work is O(batch) for the whole
 * stretch; step times come from the same cost calls, in the same order, as step by step.
 */
export function stretch(e: EngineCore, t: number): boolean {
  const run = e.running;
  const B = run.length;
  const bs = e.kv.blockSize;
  let minRem = Infinity;
  for (let i = 0; i < B; i++) {
    const r = run[i]!;
    const rem = r.target - r.generated;
    if (rem < minRem) minRem = rem;
  }
  const plan = planStretch(e, stepsWithinFreeBlocks(run, e.kv, minRem - 1), t, B, e.curCtx, e.curLoraTokens);
  if (!plan) return false;
  const { q, last } = plan;
  if (e.config.tokenEvents) {
    const { L, ends } = e;
    for (let j = 0; j < q; j++) {
      const te = ends[j]!;
      for (let i = 0; i < B; i++) L.onTokens(run[i]!.req.id, te, 1);
    }
  }
  let alloc = 0;
  for (let i = 0; i < B; i++) {
    const r = run[i]!;
    r.numComputed += q;
    r.numTokens += q;
    r.generated += q;
    const b = Math.ceil(r.numComputed / bs);
    alloc += b - r.blocks;
    r.blocks = b;
    r.sched = 0;
    r.lastToken = last;
  }
  e.kv.allocate(alloc);
  endStretch(e, q, B, last, plan.bottleneck);
  return true;
}

/**
 * The end times of up to qmax decode steps of B sequences, the first being the step in flight:
 * each priced by the same cost call as step by step (Σctx grows by B a step). Stops before a
 * step that ends after t or, with `blocksAt`, whose blocks no longer fit. Null when q < 2.
 */
export function planStretch(e: EngineCore, qmax: number, t: number, B: number, ctx0: number, loraTok: number, blocksAt?: (j: number) => number) {
  if (qmax < 2) return null;
  if (e.ends.length < qmax) e.ends = new Float64Array(Math.max(qmax, e.ends.length * 2));
  const ends = e.ends;
  ends[0] = e.curEnd;
  let q = qmax;
  let alloc = 0;
  let bottleneck = e.curBottleneck;
  for (let j = 1; j < qmax; j++) {
    const need = blocksAt ? blocksAt(j) : 0;
    if (alloc + need > e.kv.free) {
      q = j;
      break;
    }
    const c = e.price(0, 0, 0, B, ctx0 + j * B, loraTok, undefined);
    const end = ends[j - 1]! + c.seconds;
    if (end > t) {
      q = j;
      break;
    }
    alloc += need;
    ends[j] = end;
    bottleneck = c.bottleneck;
  }
  return q < 2 ? null : { q, alloc, last: ends[q - 1]!, bottleneck };
}

export function endStretch(e: EngineCore, q: number, B: number, last: number, bottleneck: Bottleneck): void {
  const step = e.st.steps;
  e.st.steps += q;
  e.st.generationTokens += q * B;
  e.pending -= q * B;
  e.cur = false;
  e.lastEnd = last;
  e.emitStep(step, last, B, 0, B, bottleneck, q, 0, 0);
}
