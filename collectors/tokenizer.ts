// Client-side token counts with the LLaMA tokenizer (llama-tokenizer-js, the vocabulary of
// hf-internal-testing/llama-tokenizer). Convention: no BOS token, with SentencePiece's dummy
// prefix space — what HF's LlamaTokenizer gives with add_special_tokens=False.
import llamaTokenizer from 'llama-tokenizer-js';

export type TokenCounter = (text: string) => number;

// LLaMA's vocabulary has no token with "▁" (a space) after another character, so BPE never
// merges across the start of a space-led piece: counting piece by piece, with a cache of
// pieces, gives the same count as encoding the whole text, at a fraction of the cost (the
// library's full encode costs ~300 µs for 16 words; a hot request path cannot pay that).
const pieceCache = new Map<string, number>();
const PIECE_CACHE_MAX = 200_000;
const PIECES = / *[^ ]+| +/g;

function countPiece(piece: string): number {
  let n = pieceCache.get(piece);
  if (n === undefined) {
    n = llamaTokenizer.encode(piece, false, false).length;
    if (pieceCache.size < PIECE_CACHE_MAX) pieceCache.set(piece, n);
  }
  return n;
}

/** Token count of `text` without BOS (with the dummy prefix space). */
export const countTokens: TokenCounter = (text) => {
  if (text.length === 0) return 0;
  let n = 0;
  for (const m of (' ' + text).matchAll(PIECES)) n += countPiece(m[0]);
  return n;
};

/** The library's whole-text count (reference for the piecewise one). */
export const countTokensWhole: TokenCounter = (text) => (text.length === 0 ? 0 : llamaTokenizer.encode(text, false).length);

export function encode(text: string): number[] {
  return llamaTokenizer.encode(text, false);
}

export function decode(ids: number[]): string {
  return llamaTokenizer.decode(ids, false);
}
