// Completing a step: computed tokens land, a token is sampled where a sequence is fully
// computed, finished requests leave. The eager pass visits every request; the fast one only
// the prefilling ones, while lazy decoders advance in aggregate.
import type { EngineCore } from './core.ts';
import type { Seq } from './seq.ts';

/** Ends the step in flight visiting every running request (per-token events, MoE gates). */
export function completeEager(e: EngineCore): void {
  const te = e.curEnd;
  const { running, L } = e;
  const tokenEvents = e.config.tokenEvents;
  const step = e.st.steps++;
  let w = 0;
  let computed = 0;
  let sampled = 0;
  const n = running.length;
  for (let i = 0; i < n; i++) {
    const r = running[i]!;
    const k = r.sched;
    if (k > 0) {
      const c = r.numComputed + k;
      r.numComputed = c;
      computed += k;
      r.sched = 0;
      if (r.aborted) {
        e.finish(r, te, 'abort');
        continue;
      }
      if (c === r.numTokens) {
        r.numTokens = c + 1;
        const g = ++r.generated;
        sampled++;
        if (g === 1) r.firstToken = te;
        r.lastToken = te;
        if (tokenEvents) L.onTokens(r.req.id, te, 1);
        if (g >= r.target) {
          e.finish(r, te, r.reason);
          continue;
        }
      }
    }
    if (w !== i) running[w] = r;
    w++;
  }
  running.length = w;
  e.pending -= computed;
  e.st.generationTokens += sampled;
  e.cur = false;
  e.lastEnd = te;
  if (e.curGates) L.onGates?.(step, te, e.curGates, e.curPrefill + e.curDecode);
  e.emitStep(step, te, e.curBatch, e.curPrefill, e.curDecode, e.curBottleneck, 1, e.curPreempted, e.curSwap);
}

/** Ends a fast step: prefilling requests one by one, lazy decoders in aggregate. */
export function completeFast(e: EngineCore): void {
  const te = e.curEnd;
  const { lz } = e;
  const step = e.st.steps++;
  let computed = lz.D;
  let sampled = lz.D;
  const pre = lz.prefilling;
  const toLazy: Seq[] = [];
  let w = 0;
  for (let i = 0; i < pre.length; i++) {
    const r = pre[i]!;
    const k = r.sched;
    const c = r.numComputed + k;
    r.numComputed = c;
    computed += k;
    r.sched = 0;
    if (r.aborted) {
      e.finish(r, te, 'abort');
      lz.dead++;
      continue;
    }
    if (c === r.numTokens) {
      r.numTokens = c + 1;
      const g = ++r.generated;
      sampled++;
      if (g === 1) r.firstToken = te;
      r.lastToken = te;
      if (g >= r.target) {
        e.finish(r, te, r.reason);
        lz.dead++;
      } else toLazy.push(r);
      continue;
    }
    pre[w++] = r;
  }
  pre.length = w;
  lz.advance();
  e.lastEnd = te;
  for (let r = lz.popFinished(te); r; r = lz.popFinished(te)) {
    e.finish(r, te, r.reason);
    lz.dead++;
  }
  for (const r of toLazy) lz.lazify(r);
  if (lz.aborts.length) {
    for (const r of lz.aborts) {
      if (!r.lazy) continue;
      lz.materialize(r, te);
      e.finish(r, te, 'abort');
      lz.dead++;
    }
    lz.aborts.length = 0;
  }
  e.pending -= computed;
  e.st.generationTokens += sampled;
  lz.compact(e.running);
  e.cur = false;
  e.emitStep(step, te, e.curBatch, e.curPrefill, e.curDecode, e.curBottleneck, 1, 0, e.curSwap);
}
