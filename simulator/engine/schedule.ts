// Forming a step (vLLM V1's schedule()): running requests first, oldest first, each its
// remaining tokens up to the budget, preempting the newest when blocks run out; then waiting
// requests while budget, max_num_seqs, LoRA slots and KV blocks (watermark) allow.
import type { BatchShape } from '../types.ts';
import type { EngineCore } from './core.ts';
import type { Seq } from './seq.ts';

/** Forms the batch of a step starting at `start`; false when nothing can run. */
export function formStep(e: EngineCore, start: number): boolean {
  const { kv, running, lora, moe } = e;
  const bs = kv.blockSize;
  let budget = e.config.maxNumBatchedTokens;
  let preempted = 0;
  // The batch's shape, accumulated as requests are scheduled (one pass over the batch).
  let batch = 0;
  let pS = 0;
  let pT = 0;
  let pW = 0;
  let dS = 0;
  let dC = 0;
  let loraTok = 0;
  let fast = false;
  const lz = e.lz;
  if (lz.active) {
    fast = lz.fits(budget, kv.free);
    if (fast) {
      const pre = lz.prefilling;
      for (let i = 0; i < pre.length; i++) {
        const r = pre[i]!;
        const n = r.numTokens - r.numComputed;
        const need = Math.ceil((r.numComputed + n) / bs) - r.blocks;
        if (need > 0) {
          kv.allocate(need);
          r.blocks += need;
        }
        r.sched = n;
        budget -= n;
        pS++;
        pT += n;
        pW += n * (r.numComputed + n / 2);
      }
      kv.allocate(lz.blocksAt());
      budget -= lz.D;
      dS = lz.D;
      dC = lz.sumC;
      batch = lz.D + pre.length;
    } else lz.materializeAll(running, e.lastEnd);
  }
  for (let i = 0; !fast && i < running.length; i++) {
    if (budget <= 0) break;
    const r = running[i]!;
    let n = r.numTokens - r.numComputed;
    if (n > budget) n = budget;
    // Blocks beyond those held (most decode steps need none: skip the division).
    const over = r.numComputed + n - r.blocks * bs;
    const need = over > 0 ? Math.ceil(over / bs) : 0;
    let self = false;
    while (need > kv.free) {
      const vi = e.victimIndex();
      const v = running[vi]!;
      if (v.sched > 0) {
        // Under the priority policy the victim may already be in this step: take it out.
        const m = v.sched;
        batch--;
        if (v.numComputed >= v.prefillEnd) {
          dS--;
          dC -= v.numComputed;
        } else {
          pS--;
          pT -= m;
          pW -= m * (v.numComputed + m / 2);
        }
        if (lora && v.req.adapter) loraTok -= m;
        budget += m;
      }
      e.preempt(v, vi, start);
      preempted++;
      if (v === r) {
        self = true;
        break;
      }
      if (vi < i) i--;
    }
    if (self) {
      i--;
      continue;
    }
    if (need > 0) {
      kv.allocate(need);
      r.blocks += need;
    }
    r.sched = n;
    budget -= n;
    batch++;
    if (r.numComputed >= r.prefillEnd) {
      dS++;
      dC += r.numComputed;
    } else {
      pS++;
      pT += n;
      pW += n * (r.numComputed + n / 2);
    }
    if (lora && r.req.adapter) loraTok += n;
  }
  let swap = 0;
  if (preempted === 0 || running.length === 0) {
    const w = e.waiting;
    let skipped: Seq[] | null = null;
    const maxSeqs = e.config.maxNumSeqs + lz.dead;
    while (w.size > 0 && budget > 0 && running.length < maxSeqs) {
      const s = w.peek()!;
      if (s.req.arrival > start) break;
      const total = s.numTokens - s.numComputed;
      if (!e.config.chunkedPrefill && total > budget) break;
      const n = total < budget ? total : budget;
      const ad = lora ? s.req.adapter : null;
      if (ad && !lora!.canJoin(ad)) {
        (skipped ??= []).push(w.pop()!);
        continue;
      }
      if (!kv.canAdmit(Math.ceil(s.numTokens / bs), running.length > lz.dead)) break;
      w.pop();
      const need = Math.ceil(n / bs);
      kv.allocate(need);
      s.blocks = need;
      if (ad) {
        const sw = lora!.acquire(ad);
        if (s.adapterResident === undefined) s.adapterResident = sw === 0;
        swap += sw;
        loraTok += n;
      }
      s.state = 1;
      s.sched = n;
      s.prefillEnd = s.numTokens;
      budget -= n;
      running.push(s);
      if (fast) lz.prefilling.push(s);
      batch++;
      pS++;
      pT += n;
      pW += n * (n / 2);
      // No content: an even topic mix (the id would give every synthetic request the same topic).
      if (moe && !s.routing) s.routing = moe.profile(s.req.content ?? '');
      if (Number.isNaN(s.scheduledAt)) {
        s.scheduledAt = start;
        e.L.onScheduled?.(s.req.id, start);
      }
    }
    if (skipped) for (let j = skipped.length - 1; j >= 0; j--) w.pushFront(skipped[j]!);
  }
  if (batch === 0) return false;
  let moeShape: BatchShape['moe'];
  e.curGates = null;
  if (moe) {
    moe.beginStep();
    for (let i = 0; i < running.length; i++) {
      const r = running[i]!;
      if (r.sched > 0) moe.route(r.routing!, r.sched);
    }
    const load = moe.endStep();
    moeShape = { distinctExperts: load.distinctExperts, maxRankTokens: load.maxRankTokens, maxExpertTokens: load.maxExpertTokens, maxRankExperts: load.maxRankExperts };
    e.curGates = load.counts;
  }
  const cost = e.price(pS, pT, pW, dS, dC, loraTok, moeShape);
  e.cur = true;
  e.curFast = fast;
  e.curStart = start;
  e.curEnd = start + (cost.seconds + swap);
  e.curBatch = batch;
  e.curPrefill = pT;
  e.curDecode = dS;
  e.curCtx = dC;
  e.curLoraTokens = loraTok;
  e.curPreempted = preempted;
  e.curSwap = swap;
  e.curBottleneck = cost.bottleneck;
  e.st.promptTokens += pT;
  return true;
}
