// Lazy decode tracking: decoding requests advance together one token per step without being
// touched. Their counters are kept as of an anchor step; Σctx, the blocks each step takes
// (requests grouped by phase mod block size) and who finishes next (a heap) are aggregates.
import { Heap } from './heap.ts';
import type { Seq } from './seq.ts';

const byFinish = (a: Seq, b: Seq) => (a.finishAt !== b.finishAt ? a.finishAt < b.finishAt : a.seqNo < b.seqNo);

export class LazyDecoders {
  /** Whether decoders are tracked lazily now (else every counter on a Seq is exact). */
  active = false;
  /** Fast steps done. */
  ds = 0;
  /** Lazy decoders, and Σ of their computed tokens (the step's decodeCtxSum). */
  D = 0;
  sumC = 0;
  /** Running requests still prefilling (scheduled one by one). */
  readonly prefilling: Seq[] = [];
  /** Lazy decoders aborted while a step was in flight. */
  readonly aborts: Seq[] = [];
  /** Finished requests still in the running list (removed in batches). */
  dead = 0;
  private readonly phaseCnt: Int32Array;
  private heap = new Heap<Seq>(byFinish);

  constructor(private readonly bs: number) {
    this.phaseCnt = new Int32Array(bs);
  }

  /** Blocks the decoders take in the step formed `ahead` fast steps from now. */
  blocksAt(ahead = 0): number {
    return this.phaseCnt[(this.ds + ahead) % this.bs]!;
  }

  /** The fast-step count at which the next decoder finishes. */
  nextFinishAt(): number | undefined {
    return this.heap.peek()?.finishAt;
  }

  /** Whether the next step can be fast: all running fits the budget and the free blocks (no preemption). */
  fits(budget: number, freeBlocks: number): boolean {
    const bs = this.bs;
    let demand = this.D;
    let need = this.blocksAt();
    for (const r of this.prefilling) {
      const n = r.numTokens - r.numComputed;
      demand += n;
      need += Math.ceil((r.numComputed + n) / bs) - r.blocks;
    }
    return demand <= budget && need <= freeBlocks;
  }

  /** Starts tracking a decoding request (at rest: blocks cover its computed tokens). */
  lazify(r: Seq): void {
    const bs = this.bs;
    r.lazy = true;
    r.anchor = this.ds;
    // It needs a block when its computed tokens reach a multiple of bs: on steps ≡ phase.
    r.phase = (((this.ds - r.numComputed) % bs) + bs) % bs;
    r.finishAt = this.ds + (r.target - r.generated);
    this.phaseCnt[r.phase]!++;
    this.D++;
    this.sumC += r.numComputed;
    this.heap.push(r);
  }

  /** Brings a lazy request's counters up to date (at rest) and stops tracking it. */
  materialize(r: Seq, lastEnd: number): void {
    const delta = this.ds - r.anchor;
    this.sumC -= r.numComputed + delta;
    r.numComputed += delta;
    r.numTokens += delta;
    r.generated += delta;
    if (delta > 0) r.lastToken = lastEnd;
    r.blocks = Math.ceil(r.numComputed / this.bs);
    r.lazy = false;
    this.phaseCnt[r.phase]!--;
    this.D--;
  }

  /** Ends a fast step: every decoder computed one token and sampled the next. */
  advance(steps = 1): void {
    this.ds += steps;
    this.sumC += steps * this.D;
  }

  /** The next decoder that has reached its last token (materialized), if any. */
  popFinished(lastEnd: number): Seq | undefined {
    for (let top = this.heap.peek(); top && top.finishAt <= this.ds; top = this.heap.peek()) {
      this.heap.pop();
      if (!top.lazy) continue;
      this.materialize(top, lastEnd);
      return top;
    }
    return undefined;
  }

  /** Back to exact counters on every request; finished requests leave `running`. */
  materializeAll(running: Seq[], lastEnd: number): void {
    let w = 0;
    for (let i = 0; i < running.length; i++) {
      const r = running[i]!;
      if (r.state === 2) continue;
      if (r.lazy) this.materialize(r, lastEnd);
      running[w++] = r;
    }
    running.length = w;
    this.dead = 0;
    this.heap = new Heap<Seq>(byFinish);
    this.prefilling.length = 0;
    this.D = 0;
    this.sumC = 0;
    this.phaseCnt.fill(0);
    this.active = false;
  }

  /** After an eager step: decoders go lazy, the rest form the prefilling list. */
  lazifyAll(running: readonly Seq[]): void {
    this.prefilling.length = 0;
    for (const r of running) {
      if (r.numComputed >= r.prefillEnd) this.lazify(r);
      else this.prefilling.push(r);
    }
    this.active = true;
  }

  /** Drops finished requests from `running` once they are a quarter of it. */
  compact(running: Seq[]): void {
    if (this.dead <= 32 || this.dead * 4 <= running.length) return;
    let j = 0;
    for (let i = 0; i < running.length; i++) if (running[i]!.state !== 2) running[j++] = running[i]!;
    running.length = j;
    this.dead = 0;
  }
}
