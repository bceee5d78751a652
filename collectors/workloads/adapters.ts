// Spreads requests over N LoRA adapters: uniform (the LoRA experiment's default) or Zipf with
// exponent S (a few hot adapters), seeded. The /generate protocol names adapter i by its
// model_id "i"; vLLM's OpenAI API by the served name "lora-i".
import { usageError } from '../../core/errors.ts';
import type { WorkItem } from '../engine.ts';
import { seededRng } from '../rng.ts';

export type AdapterDist = { kind: 'uniform' } | { kind: 'zipf'; s: number };

/** `uniform` or `zipf:S` (S > 0); a usage error names the flag and the forms. */
export function parseAdapterDist(text: string, flag = '--adapter-dist'): AdapterDist {
  if (text === 'uniform') return { kind: 'uniform' };
  const m = /^zipf:([\d.]+)$/.exec(text);
  if (m && Number(m[1]) > 0) return { kind: 'zipf', s: Number(m[1]) };
  throw usageError(`${flag}: '${text}' is not uniform or zipf:S with S > 0 (e.g. zipf:1.1)`);
}

/** The adapter's name on the wire: "i" for /generate (model_id), "lora-i" for the OpenAI API. */
export function adapterName(i: number, protocol: string): string {
  return protocol === 'generate' ? String(i) : `lora-${i}`;
}

/** Adapter index of each of `count` requests, drawn from the distribution over [0, total). */
export function drawAdapters(count: number, total: number, dist: AdapterDist, seed: number): number[] {
  if (!(Number.isInteger(total) && total >= 1)) throw usageError(`--total-loras: ${total} must be a whole number ≥ 1`);
  const rng = seededRng(seed ^ 0x10ca);
  if (dist.kind === 'uniform') return Array.from({ length: count }, () => Math.min(total - 1, Math.floor(rng.next() * total)));
  const cdf: number[] = [];
  let acc = 0;
  for (let k = 1; k <= total; k++) cdf.push((acc += 1 / k ** dist.s));
  return Array.from({ length: count }, () => {
    const u = rng.next() * acc;
    let lo = 0;
    let hi = total - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

/**
 * Gives every item its own adapter (copies: an item cycled by a duration run keeps its adapter).
 * The index is also kept in the record's `extra.adapter_idx` for SQL.
 */
export function assignAdapters(items: WorkItem[], total: number, dist: AdapterDist, seed: number, protocol: string): WorkItem[] {
  const ids = drawAdapters(items.length, total, dist, seed);
  return items.map((it, i) => {
    const a = ids[i]!;
    const extra = { ...((it.base?.extra as Record<string, unknown> | undefined) ?? {}), adapter_idx: a };
    return { ...it, adapter: adapterName(a, protocol), base: { ...it.base, extra } };
  });
}
