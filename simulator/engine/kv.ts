// The paged KV cache of one replica, as vLLM's block manager counts it: fixed-size blocks
// (16 tokens), a request holds ceil(tokens/16), admission keeps a watermark of blocks free.

export class BlockManager {
  readonly total: number;
  readonly blockSize: number;
  /** Blocks that admission leaves free (vLLM V0/Vidur: 1 % of the cache). */
  readonly watermarkBlocks: number;
  free: number;

  constructor(total: number, blockSize = 16, watermark = 0.01) {
    if (!Number.isInteger(total) || total < 1) throw new Error(`kvBlocks: ${total} must be a whole number ≥ 1 (the model may not fit in GPU memory)`);
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`blockSize: ${blockSize} must be a whole number ≥ 1`);
    if (!(watermark >= 0 && watermark < 1)) throw new Error(`watermark: ${watermark} must be in [0, 1)`);
    this.total = total;
    this.blockSize = blockSize;
    this.watermarkBlocks = Math.ceil(total * watermark);
    this.free = total;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /** Whether a new request needing `need` blocks may start (the watermark is waived on an empty replica). */
  canAdmit(need: number, othersRunning: boolean): boolean {
    return this.free - need >= (othersRunning ? this.watermarkBlocks : 0);
  }

  allocate(n: number): void {
    if (n > this.free) throw new Error(`KV cache: allocating ${n} blocks with ${this.free} free`);
    this.free -= n;
  }

  release(n: number): void {
    this.free += n;
    if (this.free > this.total) throw new Error(`KV cache: released more blocks than allocated (${this.free} > ${this.total})`);
  }

  usage(): number {
    return (this.total - this.free) / this.total;
  }
}

/**
 * For decoding sequences that hold blocks for their next token: the largest q ≤ max such that
 * the blocks they take over q decode steps (from step 2 on) fit in the free blocks (binary search).
 */
export function stepsWithinFreeBlocks(run: readonly { numComputed: number; blocks: number }[], kv: BlockManager, max: number): number {
  if (max < 1) return max;
  const bs = kv.blockSize;
  const needFor = (k: number): number => {
    let n = 0;
    for (let i = 0; i < run.length; i++) {
      const r = run[i]!;
      n += Math.ceil((r.numComputed + k) / bs) - r.blocks;
    }
    return n;
  };
  if (needFor(max) <= kv.free) return max;
  let lo = 1;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (needFor(mid) <= kv.free) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
