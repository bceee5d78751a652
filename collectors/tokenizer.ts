// Client-side token counts with the LLaMA tokenizer (llama-tokenizer-js, the vocabulary of
// hf-internal-testing/llama-tokenizer). Convention: no BOS token, with SentencePiece's dummy
// prefix space — what HF's LlamaTokenizer gives with add_special_tokens=False.
import llamaTokenizer from 'llama-tokenizer-js';
import { countTextTokens } from '../core/llama-tokens.ts';

export type TokenCounter = (text: string) => number;

/** Token count of `text` without BOS (with the dummy prefix space), piece by piece through the shared cache. */
export const countTokens: TokenCounter = (text) => countTextTokens(text, true);

/** The library's whole-text count (reference for the piecewise one). */
export const countTokensWhole: TokenCounter = (text) => (text.length === 0 ? 0 : llamaTokenizer.encode(text, false).length);

export function encode(text: string): number[] {
  return llamaTokenizer.encode(text, false);
}

export function decode(ids: number[]): string {
  return llamaTokenizer.decode(ids, false);
}
