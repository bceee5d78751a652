// LoRA adapters of one replica: at most `maxLoras` distinct adapters in a batch, a GPU-resident
// set of `gpuLoras` with LRU eviction; a miss loads the adapter over PCIe (bytes / bandwidth).
// The load time is added to the step that admits the request (vLLM loads synchronously there).

export interface LoraConfig {
  /** Distinct adapters allowed in one batch (vLLM --max-loras). */
  maxLoras: number;
  /** Adapters that fit in GPU memory at once (the HBM budget); ≥ maxLoras. */
  gpuLoras: number;
  /** Bytes of one adapter (or a function of its name). */
  adapterBytes: number | ((name: string) => number);
  /** Host→GPU bandwidth, bytes/s (PCIe Gen5 x16 ≈ 64e9 per direction). */
  pcieBytesPerSec: number;
  /** Adapter rank, given to the cost model. */
  rank: number;
  /** Adapters already resident at start (most recently used last). */
  preloaded?: readonly string[];
}

export interface LoraStats {
  hits: number;
  misses: number;
  evictions: number;
  swapSeconds: number;
}

export class LoraManager {
  /** Resident adapters in LRU order (Map keeps insertion order; a touch re-inserts). */
  private resident = new Map<string, true>();
  /** Adapters in use by admitted requests, with their request counts. */
  private inUse = new Map<string, number>();
  readonly stats: LoraStats = { hits: 0, misses: 0, evictions: 0, swapSeconds: 0 };
  /** Whether the last acquire had to swap its adapter in (read by the request's scheduled callback). */
  lastMissed = false;
  /** Evicted adapters in order (for tests and logs). */
  readonly evicted: string[] = [];

  constructor(readonly config: LoraConfig) {
    const { maxLoras, gpuLoras, pcieBytesPerSec } = config;
    if (!Number.isInteger(maxLoras) || maxLoras < 1) throw new Error(`lora.maxLoras: ${maxLoras} must be a whole number ≥ 1`);
    if (!Number.isInteger(gpuLoras) || gpuLoras < maxLoras) throw new Error(`lora.gpuLoras: ${gpuLoras} must be a whole number ≥ maxLoras (${maxLoras})`);
    if (!(pcieBytesPerSec > 0)) throw new Error(`lora.pcieBytesPerSec: ${pcieBytesPerSec} must be > 0`);
    for (const a of config.preloaded ?? []) this.touch(a);
    while (this.resident.size > gpuLoras) this.resident.delete(this.resident.keys().next().value!);
  }

  isResident(name: string): boolean {
    return this.resident.has(name);
  }

  residentList(): string[] {
    return [...this.resident.keys()];
  }

  /** Adapters in the running set (the batch limit applies to them). */
  activeCount(): number {
    return this.inUse.size;
  }

  /** Whether a request with this adapter can join the running set now. */
  canJoin(name: string): boolean {
    if (this.inUse.has(name)) return true;
    if (this.inUse.size >= this.config.maxLoras) return false;
    if (this.resident.has(name) || this.resident.size < this.config.gpuLoras) return true;
    for (const r of this.resident.keys()) if (!this.inUse.has(r)) return true;
    return false;
  }

  /** Takes a reference on the adapter; returns the swap-in seconds (0 on a hit). */
  acquire(name: string): number {
    this.inUse.set(name, (this.inUse.get(name) ?? 0) + 1);
    this.lastMissed = !this.resident.has(name);
    if (!this.lastMissed) {
      this.stats.hits++;
      this.touch(name);
      return 0;
    }
    this.stats.misses++;
    if (this.resident.size >= this.config.gpuLoras) {
      for (const r of this.resident.keys()) {
        if (!this.inUse.has(r)) {
          this.resident.delete(r);
          this.evicted.push(r);
          this.stats.evictions++;
          break;
        }
      }
    }
    this.touch(name);
    const bytes = typeof this.config.adapterBytes === 'function' ? this.config.adapterBytes(name) : this.config.adapterBytes;
    const s = bytes / this.config.pcieBytesPerSec;
    this.stats.swapSeconds += s;
    return s;
  }

  release(name: string): void {
    const n = this.inUse.get(name) ?? 0;
    if (n <= 1) this.inUse.delete(name);
    else this.inUse.set(name, n - 1);
  }

  private touch(name: string): void {
    this.resident.delete(name);
    this.resident.set(name, true);
  }
}
