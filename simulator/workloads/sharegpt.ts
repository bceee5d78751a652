// ShareGPT-format datasets (a JSON list of {conversations: [{from, value}, …]}): the first turn
// is the prompt, the second the reference output; lengths by word count or the LLaMA tokenizer.
import fs from 'node:fs';
import llamaTokenizer from 'llama-tokenizer-js';
import { inputError } from '../../core/errors.ts';

export const COUNTERS = ['words', 'llama'] as const;
export type Counter = (typeof COUNTERS)[number];

export interface DatasetEntry {
  prompt: string;
  promptTokens: number;
  outputTokens: number;
}

export interface ShareGptOptions {
  counter?: Counter;
  /** vLLM's benchmark filter: drop prompts or outputs under 4 tokens, prompts over 1024, totals over 2048. Default true. */
  filter?: boolean;
  /** Stop after this many entries are kept. */
  limit?: number;
}

export function countTokens(text: string, counter: Counter): number {
  if (counter === 'words') return text.split(/\s+/).filter((w) => w !== '').length;
  // llama-tokenizer-js adds BOS (id 1); the prompt's own tokens exclude it.
  return Math.max(0, llamaTokenizer.encode(text).length - 1);
}

/** Parses ShareGPT JSON text; `where` names the file in errors. */
export function parseShareGpt(text: string, where: string, opts: ShareGptOptions = {}): DatasetEntry[] {
  const counter = opts.counter ?? 'words';
  const filter = opts.filter ?? true;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw inputError(where, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(data)) throw inputError(where, undefined, 'expected a JSON list of {"conversations": [...]} entries (ShareGPT format)');
  const out: DatasetEntry[] = [];
  for (let i = 0; i < data.length; i++) {
    const conv = (data[i] as { conversations?: unknown })?.conversations;
    if (!Array.isArray(conv)) throw inputError(`${where}[${i}]`, 'conversations', 'missing or not a list');
    if (conv.length < 2) continue;
    const first = (conv[0] as { value?: unknown })?.value;
    const second = (conv[1] as { value?: unknown })?.value;
    if (typeof first !== 'string' || typeof second !== 'string') throw inputError(`${where}[${i}]`, 'conversations[0..1].value', 'must be strings');
    const promptTokens = countTokens(first, counter);
    const outputTokens = countTokens(second, counter);
    if (filter && (promptTokens < 4 || outputTokens < 4 || promptTokens > 1024 || promptTokens + outputTokens > 2048)) continue;
    if (promptTokens < 1 || outputTokens < 1) continue;
    out.push({ prompt: first, promptTokens, outputTokens });
    if (opts.limit && out.length >= opts.limit) break;
  }
  if (out.length === 0) throw inputError(where, undefined, 'no usable conversations (each needs two turns; see the length filter)');
  return out;
}

export function loadShareGpt(file: string, opts: ShareGptOptions = {}): DatasetEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(file, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseShareGpt(text, file, opts);
}
