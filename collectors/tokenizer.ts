// Client-side token counts with the LLaMA tokenizer (llama-tokenizer-js, the vocabulary of
// hf-internal-testing/llama-tokenizer). Convention: no BOS token, with SentencePiece's dummy
// prefix space — what HF's LlamaTokenizer gives with add_special_tokens=False.
import llamaTokenizer from 'llama-tokenizer-js';

export type TokenCounter = (text: string) => number;

/** Token count of `text` without BOS. */
export const countTokens: TokenCounter = (text) => (text.length === 0 ? 0 : llamaTokenizer.encode(text, false).length);

export function encode(text: string): number[] {
  return llamaTokenizer.encode(text, false);
}

export function decode(ids: number[]): string {
  return llamaTokenizer.decode(ids, false);
}

/** Counts with a cache, for datasets that repeat prompts. */
export function cachedCounter(count: TokenCounter = countTokens, max = 100_000): TokenCounter {
  const cache = new Map<string, number>();
  return (text) => {
    let n = cache.get(text);
    if (n === undefined) {
      n = count(text);
      if (cache.size < max) cache.set(text, n);
    }
    return n;
  };
}
