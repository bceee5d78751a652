// ShareGPT JSON as vLLM's bench reads it: conversations[0] is the prompt, [1] the reference
// completion; vLLM's length filters as options; seeded shuffle and oversampling; prompt-length
// regimes by client tokens (short 256–1024, long 2048–4096). Bad entries fail with file:line.
import fs from 'node:fs';
import { inputError } from '../../core/errors.ts';
import type { WorkItem } from '../engine.ts';
import { seededRng, shuffle } from '../rng.ts';
import { countTokens as defaultCount, type TokenCounter } from '../tokenizer.ts';
import { makeItem } from './common.ts';

export const REGIMES = { short: [256, 1024], long: [2048, 4096] } as const;
export type Regime = keyof typeof REGIMES;

export interface ShareGptOptions {
  path: string;
  numPrompts: number;
  seed?: number;
  /** Fixed output length (vLLM --sharegpt-output-len); else the completion's token count. */
  outputLen?: number | null;
  minTokens?: number;
  maxPromptTokens?: number;
  maxTotalTokens?: number;
  regime?: Regime | null;
  oversample?: boolean;
  shuffle?: boolean;
  /** Record malformed entries as skips instead of failing. */
  lenient?: boolean;
  countTokens?: TokenCounter;
  tags?: Record<string, unknown>;
  /** Warnings (skips) go here. */
  warn?: (msg: string) => void;
}

/** Line number of each top-level array element, so errors can say file:line. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let line = 1;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') {
      if (depth === 1) lines.push(line);
      depth++;
    } else if (c === ']' || c === '}') depth--;
  }
  return lines;
}

export function loadShareGpt(o: ShareGptOptions): WorkItem[] {
  const text = fs.readFileSync(o.path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw inputError(`${o.path}:1`, undefined, `not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw inputError(`${o.path}:1`, undefined, 'expected a JSON array of {conversations: [...]} entries');
  const lines = elementLines(text);
  const count = o.countTokens ?? defaultCount;
  const pairs: { prompt: string; completion: string }[] = [];
  for (let i = 0; i < data.length; i++) {
    const e = data[i] as { conversations?: { value?: unknown }[] } | null;
    const where = `${o.path}:${lines[i] ?? 1}`;
    const conv = e?.conversations;
    const problem = !Array.isArray(conv)
      ? 'conversations: missing or not an array'
      : conv.length < 2
        ? null // vLLM drops entries with fewer than two turns; not malformed
        : typeof conv[0]?.value !== 'string' || typeof conv[1]?.value !== 'string'
          ? 'conversations[0].value and [1].value must be strings'
          : undefined;
    if (problem === null) continue;
    if (problem) {
      if (!o.lenient) throw inputError(where, `entry ${i}`, problem);
      o.warn?.(`${where}: entry ${i}: ${problem} (skipped, --lenient)`);
      continue;
    }
    pairs.push({ prompt: conv![0]!.value as string, completion: conv![1]!.value as string });
  }
  const rng = seededRng(o.seed ?? 0);
  if (o.shuffle !== false) shuffle(pairs, rng);
  const minT = o.minTokens ?? 4;
  const maxP = o.maxPromptTokens ?? 1024;
  const maxTotal = o.maxTotalTokens ?? 2048;
  const [lo, hi] = o.regime ? REGIMES[o.regime] : [0, Infinity];
  const out: WorkItem[] = [];
  for (const p of pairs) {
    if (out.length >= o.numPrompts) break;
    const pt = count(p.prompt);
    const ot = o.outputLen ?? count(p.completion);
    if (o.regime) {
      if (pt < lo || pt > hi) continue;
    } else if (pt < minT || (o.outputLen == null && ot < minT) || pt > maxP || pt + ot > maxTotal) continue;
    out.push(makeItem(p.prompt, { dataset: o.path, maxTokens: ot, ignoreEos: o.outputLen != null, promptTokens: pt, tags: o.tags }));
  }
  if (out.length < o.numPrompts && out.length > 0 && o.oversample !== false) {
    const base = out.length;
    while (out.length < o.numPrompts) out.push(out[rng.int(base)]!);
  }
  if (out.length === 0) throw inputError(o.path, undefined, 'no entry passes the length filters (check --sharegpt-output-len / --prompt-regime)');
  return out;
}
