// Synthetic prompts of an exact word or token count, behind an optional fixed prefix (the
// load tester's min/max tokens + prefix; vLLM's random dataset with --random-range-ratio).
// Seeded, so the same seed gives the same prompts.
import type { WorkItem } from '../engine.ts';
import { type Rng, seededRng } from '../rng.ts';
import { countTokens } from '../tokenizer.ts';
import { makeItem } from './common.ts';

const VOCAB = (
  'the of and to in is was for on that with as by at from it an be this which or are had not but were his they have one you all ' +
  'model server token request latency memory cache batch queue engine expert layer gpu time rate load data text value system ' +
  'report result test number group order point state world house water story night light music river city garden window market'
).split(' ');

export interface SyntheticOptions {
  num: number;
  seed?: number;
  /** Prompt length (tokens by the client tokenizer, or words with unit 'words'), excluding the prefix. */
  inputLen: number;
  outputLen?: number | null;
  /** Lengths uniform in [len·(1−r), len·(1+r)] (vLLM --random-range-ratio). */
  rangeRatio?: number;
  unit?: 'tokens' | 'words';
  prefix?: string;
  ignoreEos?: boolean;
  dataset?: string;
  tags?: Record<string, unknown>;
}

// pieces are counted with their leading space, as they stand inside a text
const ONE_TOKEN = VOCAB.filter((w) => countTokens(w) === 1);

function words(n: number, rng: Rng): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(VOCAB[rng.int(VOCAB.length)]!);
  return out.join(' ');
}

/** A text of exactly `n` tokens (LLaMA tokenizer, no BOS): whole words, each a space-led piece. */
export function textOfTokens(n: number, rng: Rng): string {
  const out: string[] = [];
  let total = 0;
  while (total < n) {
    let w = VOCAB[rng.int(VOCAB.length)]!;
    let c = countTokens(w);
    // near the end, fall back to one-token words so the count lands exactly on n
    if (total + c > n) {
      w = ONE_TOKEN[rng.int(ONE_TOKEN.length)]!;
      c = 1;
    }
    out.push(w);
    total += c;
  }
  return out.join(' ');
}

function lengths(o: SyntheticOptions, len: number, rng: Rng): number {
  const r = o.rangeRatio ?? 0;
  if (r <= 0) return len;
  const lo = Math.max(1, Math.floor(len * (1 - r)));
  const hi = Math.ceil(len * (1 + r));
  return lo + rng.int(hi - lo + 1);
}

export function syntheticPrompts(o: SyntheticOptions): WorkItem[] {
  const rng = seededRng(o.seed ?? 0);
  const prefix = o.prefix ?? '';
  const out: WorkItem[] = [];
  for (let i = 0; i < o.num; i++) {
    const n = lengths(o, o.inputLen, rng);
    const body = o.unit === 'words' ? words(n, rng) : textOfTokens(n, rng);
    const out_len = o.outputLen == null ? null : lengths(o, o.outputLen, rng);
    out.push(makeItem(prefix + body, { dataset: o.dataset ?? 'random', maxTokens: out_len, ignoreEos: o.ignoreEos ?? out_len != null, tags: o.tags }));
  }
  return out;
}
