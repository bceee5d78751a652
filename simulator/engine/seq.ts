// A request inside the engine (vLLM's "sequence"): token counters in vLLM V1's terms and the
// waiting queues that order them (FCFS deque with prepend on preemption, or a priority heap).
import type { EngineRequest, FinishReason } from '../types.ts';
import { Heap } from './heap.ts';
import type { RequestRouting } from './moe-router.ts';

export class Seq {
  /** Tokens the sequence has (prompt + generated); the last sampled one has no KV yet. */
  numTokens: number;
  /** Tokens whose KV is computed. A step schedules numTokens − numComputed (capped by the budget). */
  numComputed = 0;
  /** numTokens at (re)admission: below it the sequence is prefilling. */
  prefillEnd: number;
  generated = 0;
  blocks = 0;
  /** Tokens scheduled in the step in flight (0 = not in it). */
  sched = 0;
  preemptions = 0;
  firstToken = NaN;
  lastToken = NaN;
  scheduledAt = NaN;
  /** LoRA: whether its adapter was resident in HBM when it was first scheduled (undefined: no adapter, or not yet). */
  adapterResident: boolean | undefined = undefined;
  /** 0 waiting, 1 running, 2 finished. */
  state = 0;
  aborted = false;
  routing: RequestRouting | null = null;
  // Lazy decode (see engine.ts): counters are as of fast step `anchor`; true = field + (steps since).
  lazy = false;
  anchor = 0;
  /** Fast-step count at which it samples its last token. */
  finishAt = 0;
  /** It takes a new KV block on fast steps ≡ phase (mod block size). */
  phase = 0;

  constructor(
    readonly req: EngineRequest,
    readonly seqNo: number,
    /** Output tokens at which it finishes, and why. */
    readonly target: number,
    readonly reason: FinishReason,
  ) {
    this.numTokens = req.promptTokens;
    this.prefillEnd = req.promptTokens;
  }
}

export interface WaitQueue {
  readonly size: number;
  push(s: Seq): void;
  /** Puts back a preempted or skipped sequence ahead of the rest (FCFS) or by its key (ordered). */
  pushFront(s: Seq): void;
  peek(): Seq | undefined;
  pop(): Seq | undefined;
  remove(s: Seq): boolean;
}

/** FCFS: a deque on an array with a moving head. */
export class FifoQueue implements WaitQueue {
  private a: Seq[] = [];
  private head = 0;
  get size(): number {
    return this.a.length - this.head;
  }
  push(s: Seq): void {
    this.a.push(s);
  }
  pushFront(s: Seq): void {
    if (this.head > 0) this.a[--this.head] = s;
    else this.a.unshift(s);
  }
  peek(): Seq | undefined {
    return this.head < this.a.length ? this.a[this.head] : undefined;
  }
  pop(): Seq | undefined {
    if (this.head >= this.a.length) return undefined;
    const s = this.a[this.head]!;
    this.a[this.head++] = undefined as unknown as Seq;
    if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    }
    return s;
  }
  remove(s: Seq): boolean {
    const i = this.a.indexOf(s, this.head);
    if (i < 0) return false;
    this.a.splice(i, 1);
    return true;
  }
}

/** Ordered by a comparator on requests; ties by arrival then admission sequence. */
export class OrderedQueue implements WaitQueue {
  private h: Heap<Seq>;
  constructor(order: (a: EngineRequest, b: EngineRequest) => number) {
    this.h = new Heap<Seq>((x, y) => {
      const c = order(x.req, y.req);
      if (c !== 0) return c < 0;
      if (x.req.arrival !== y.req.arrival) return x.req.arrival < y.req.arrival;
      return x.seqNo < y.seqNo;
    });
  }
  get size(): number {
    return this.h.size;
  }
  push(s: Seq): void {
    this.h.push(s);
  }
  pushFront(s: Seq): void {
    this.h.push(s);
  }
  peek(): Seq | undefined {
    return this.h.peek();
  }
  pop(): Seq | undefined {
    return this.h.pop();
  }
  remove(s: Seq): boolean {
    return this.h.remove(s);
  }
}

/** vLLM's priority policy: lower value first. */
export const byPriority = (a: EngineRequest, b: EngineRequest): number => (a.priority ?? 0) - (b.priority ?? 0);

/** The preemption victim: vLLM V1 takes the newest running under FCFS; otherwise the last by the order (then latest arrival). */
export function victimIndex(run: readonly Seq[], policy: 'fcfs' | 'priority', custom?: (a: EngineRequest, b: EngineRequest) => number): number {
  if (policy === 'fcfs' && !custom) return run.length - 1;
  const order = custom ?? byPriority;
  let best = 0;
  for (let i = 1; i < run.length; i++) {
    const a = run[i]!;
    const b = run[best]!;
    const c = order(a.req, b.req);
    if (c > 0 || (c === 0 && (a.req.arrival > b.req.arrival || (a.req.arrival === b.req.arrival && a.seqNo > b.seqNo)))) best = i;
  }
  return best;
}
