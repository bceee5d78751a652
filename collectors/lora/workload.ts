// The LoRA experiment's requests: prompts of one regime from a ShareGPT JSON file or the built-in
// conversation set, a fixed max_tokens (ignore_eos), and an adapter per request over N adapters.
import fs from 'node:fs';
import { inputError, usageError } from '../../core/errors.ts';
import type { WorkItem } from '../engine.ts';
import { seededRng, shuffle } from '../rng.ts';
import { countTokens } from '../tokenizer.ts';
import { assignAdapters, type AdapterDist } from '../workloads/adapters.ts';
import { makeItem } from '../workloads/common.ts';
import { loadShareGpt, REGIMES, type Regime } from '../workloads/sharegpt.ts';
import { BUILTIN_DATASET, builtinConversations } from './conversations.ts';

export interface LoraWorkloadOptions {
  /** ShareGPT JSON; undefined = the built-in set. */
  dataset?: string;
  regime: Regime;
  maxTokens: number;
  totalLoras: number;
  dist: AdapterDist;
  seed: number;
  /** Distinct prompts to prepare (a longer run cycles them). */
  count: number;
  protocol: string;
  /** Record tags kept in `extra` (total_loras, gpu_loras, prompt_regime, …). */
  tags: Record<string, unknown>;
  warn?: (m: string) => void;
}

export function loraWorkload(o: LoraWorkloadOptions): WorkItem[] {
  const extra = { ...o.tags };
  let items: WorkItem[];
  if (o.dataset) {
    if (!fs.existsSync(o.dataset)) throw usageError(`--dataset ${o.dataset}: no such file (a ShareGPT JSON; leave --dataset out for the built-in conversations)`);
    items = loadShareGpt({ path: o.dataset, numPrompts: o.count, seed: o.seed, outputLen: o.maxTokens, regime: o.regime, warn: o.warn });
  } else {
    const [lo, hi] = REGIMES[o.regime];
    const rng = seededRng(o.seed);
    const pool = shuffle(builtinConversations(Math.max(600, Math.ceil(o.count * 2.5)), o.seed), rng);
    items = [];
    for (const e of pool) {
      const prompt = e.conversations[0]!.value;
      const n = countTokens(prompt);
      if (n < lo || n > hi) continue;
      items.push(makeItem(prompt, { dataset: BUILTIN_DATASET, maxTokens: o.maxTokens, ignoreEos: true, promptTokens: n }));
      if (items.length >= o.count) break;
    }
    if (items.length === 0) throw inputError(BUILTIN_DATASET, undefined, `no conversation in the ${o.regime} regime`);
  }
  for (const it of items) it.base = { ...it.base, extra: { ...extra } };
  return assignAdapters(items, o.totalLoras, o.dist, o.seed, o.protocol);
}
