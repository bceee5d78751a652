// The built-in ShareGPT-like conversation set: the real ShareGPT cannot ship, so the probe and
// the sweep default to conversations made from data/lora/conversation-seeds.json, seeded, in
// ShareGPT's JSON shape, with user turns spread over both prompt regimes (short 256–1024 and
// long 2048–4096 LLaMA tokens) and a few shorter ones, as ShareGPT has.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRng } from '../rng.ts';
import { countTokens } from '../tokenizer.ts';

export const SEEDS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../data/lora/conversation-seeds.json');
/** What the records name as the dataset when the built-in set is used. */
export const BUILTIN_DATASET = 'builtin:sharegpt-like';

interface Seeds {
  topics: Record<string, string[]>;
  openers: string[];
  closers: string[];
  replies: string[];
}

export interface ShareGptEntry {
  id: string;
  conversations: { from: 'human' | 'gpt'; value: string }[];
}

/** Token ranges of the user turns: a quarter short of 256, the rest split over the two regimes (the long ones fit a 4096 context with 64 output tokens). */
const BANDS: readonly [number, number, number][] = [
  [0.15, 32, 255],
  [0.45, 256, 1024],
  [0.4, 2048, 4000],
];

/**
 * `count` conversations, the same for the same seed. Each user turn is an opener, sentences of one
 * topic (others mixed in) until its drawn token length, and a closing request.
 */
export function builtinConversations(count = 600, seed = 0): ShareGptEntry[] {
  const seeds = JSON.parse(fs.readFileSync(SEEDS_FILE, 'utf8')) as Seeds;
  const rng = seededRng(seed ^ 0x5a5e);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const topics = Object.keys(seeds.topics);
  const all = topics.flatMap((t) => seeds.topics[t]!);
  const out: ShareGptEntry[] = [];
  for (let i = 0; i < count; i++) {
    let u = rng.next();
    let band = BANDS[BANDS.length - 1]!;
    for (const b of BANDS) {
      if (u < b[0]) {
        band = b;
        break;
      }
      u -= b[0];
    }
    const target = band[1] + rng.int(band[2] - band[1] + 1);
    const topic = seeds.topics[pick(topics)]!;
    const closer = pick(seeds.closers);
    const parts = [pick(seeds.openers)];
    let tokens = countTokens(parts[0]!) + countTokens(closer);
    while (true) {
      const s = rng.next() < 0.8 ? pick(topic) : pick(all);
      const t = countTokens(s);
      if (tokens + t > target) break;
      parts.push(s);
      tokens += t;
    }
    parts.push(closer);
    const reply = Array.from({ length: 2 + rng.int(4) }, () => pick(seeds.replies)).join(' ');
    out.push({ id: `builtin-${i}`, conversations: [{ from: 'human', value: parts.join(' ') }, { from: 'gpt', value: reply }] });
  }
  return out;
}
