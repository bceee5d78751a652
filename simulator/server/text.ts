// Prompt token counting and deterministic output text for the simulated server, with the
// LLaMA tokenizer from llama-tokenizer-js so a client counting with it agrees exactly.
//
// Token convention (the one clients should use to agree with `usage`):
// - prompt tokens = llamaTokenizer.encode(prompt).length: BOS included, SentencePiece's
//   leading space added, as vLLM reports for Llama models (HF add_special_tokens=True);
// - output tokens: every generated token is one vocabulary word with its leading space
//   (`▁word`, text " word"), so llamaTokenizer.encode(text, false, false).length equals the
//   number of tokens emitted and equals usage.completion_tokens.
import llamaTokenizer from 'llama-tokenizer-js';
import { countTextTokens } from '../../core/llama-tokens.ts';
import { fnv1a } from '../rng.ts';

/** Words that are one token with their leading space and never merge with a neighbour. */
export interface Vocab {
  words: readonly string[];
  ids: readonly number[];
}

let vocabCache: Vocab | undefined;

/** Lower-case alphabetic `▁word` tokens of 3–9 letters, checked to encode to exactly one token. */
export function outputVocab(): Vocab {
  if (vocabCache) return vocabCache;
  const words: string[] = [];
  const ids: number[] = [];
  const byId = llamaTokenizer.vocabById;
  for (let id = 0; id < byId.length && words.length < 2048; id++) {
    const piece = byId[id]!;
    if (!/^▁[a-z]{3,9}$/.test(piece)) continue;
    const text = ' ' + piece.slice(1);
    const enc = llamaTokenizer.encode(text, false, false);
    if (enc.length === 1 && enc[0] === id) {
      words.push(text);
      ids.push(id);
    }
  }
  vocabCache = { words, ids };
  return vocabCache;
}

/**
 * Prompt tokens by the convention above, equal to llamaTokenizer.encode(prompt).length. The
 * LLaMA SentencePiece model splits by whitespace (no piece crosses from a word into the next
 * word's leading space), so the prompt is counted per segment (spaces + a word) with a cache:
 * load tests send thousands of prompts built from the same words. A test checks equality.
 */
export function countPromptTokens(prompt: string): number {
  // An empty prompt is BOS alone (llama-tokenizer-js returns no ids for '').
  return 1 + countTextTokens(prompt, true);
}

/** A stateless 32-bit mix: token i of a request is chosen by mix(base, i). */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic output of one request: same prompt and seed, same tokens. */
export class OutputText {
  readonly base: number;
  constructor(prompt: string, seed: number) {
    this.base = fnv1a(prompt, seed); // plain FNV-1a (not hashString's mixed value): the texts stay as they were
  }
  /** Index into the vocabulary of output token i. */
  index(i: number): number {
    return mix32(this.base, i) % outputVocab().words.length;
  }
  word(i: number): string {
    return outputVocab().words[this.index(i)]!;
  }
  id(i: number): number {
    return outputVocab().ids[this.index(i)]!;
  }
  /** Text of output tokens [from, to). */
  text(from: number, to: number): string {
    let s = '';
    for (let i = from; i < to; i++) s += this.word(i);
    return s;
  }
  ids(from: number, to: number): number[] {
    const out: number[] = [];
    for (let i = from; i < to; i++) out.push(this.id(i));
    return out;
  }
  /**
   * Output length at which the model emits EOS, for an end-of-sequence probability per token
   * (a geometric draw from this request's seed); maxTokens + 1 means no EOS within the limit
   * (finish_reason "length"), which is all there is with eosRate 0.
   */
  naturalLength(maxTokens: number, eosRate: number): number {
    if (!(eosRate > 0)) return maxTokens + 1;
    const u = (mix32(this.base, 0x7fffffff) + 0.5) / 2 ** 32;
    const n = 1 + Math.floor(Math.log(u) / Math.log(1 - Math.min(eosRate, 0.999999)));
    return Math.max(1, Math.min(maxTokens + 1, n));
  }
}
