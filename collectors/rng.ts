// Seeded random numbers for the collectors (schedules, sampling, endpoint choice): the serving
// model's generator (simulator/rng.ts), plus the two helpers the collectors need.
import { createRng, type Rng } from '../simulator/rng.ts';

export type { Rng };

/** A generator for `seed`; the same seed replays the same schedule and samples. */
export function seededRng(seed: number): Rng {
  return createRng(seed, 'collectors');
}

/** Fisher–Yates shuffle in place. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Picks an index by weight. */
export function pickWeighted(weights: readonly number[], rng: Rng): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}
