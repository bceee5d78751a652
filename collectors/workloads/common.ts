// Shared helpers for workload generators: the per-prompt record fields (hash, words, client
// tokens) and the seeded sampling every generator uses.
import { promptHash, wordCount } from '../../core/prompt-fields.ts';
import type { WorkItem } from '../engine.ts';
import { countTokens, type TokenCounter } from '../tokenizer.ts';

export interface ItemOptions {
  dataset?: string | null;
  maxTokens?: number | null;
  ignoreEos?: boolean;
  adapter?: string | null;
  countTokens?: TokenCounter;
  /** Client tokens when already known (skips tokenizing). */
  promptTokens?: number;
  /** Extra record fields (gpu, …). */
  tags?: Record<string, unknown>;
}

export function makeItem(prompt: string, o: ItemOptions = {}): WorkItem {
  return {
    prompt,
    maxTokens: o.maxTokens ?? null,
    ignoreEos: o.ignoreEos,
    adapter: o.adapter ?? null,
    base: {
      dataset: o.dataset ?? null,
      prompt_hash: promptHash(prompt),
      prompt_words: wordCount(prompt),
      prompt_tokens_client: o.promptTokens ?? (o.countTokens ?? countTokens)(prompt),
      ...(o.tags as object),
    },
  };
}
