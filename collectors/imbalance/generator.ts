// The work source of the three old scripts: the GPU round-robin assigns the next request,
// and its prompt (generate: k^n…k^1 words for M loops, then concurrency² words; warmup: the
// k^n pattern throughout; replay: the prompts file in order). Items are made one at a time,
// in order, as the old loop did (acquire a slot, read the GPU's concurrency, send).
import { promptHash } from '../../core/prompt-fields.ts';
import type { WorkItem } from '../engine.ts';
import type { ConcurrencyTracker } from './concurrency.ts';
import type { PromptsWriter } from './prompts-file.ts';
import { concurrencyWords, warmupSizes, wordsPrompt } from './sizes.ts';

export const MODES = ['generate', 'warmup', 'replay'] as const;
export type Mode = (typeof MODES)[number];

export interface SourceOptions {
  mode: Mode;
  numGpus: number;
  /** --exp-base/-k */
  k: number;
  /** --warmup-loops/-m (generate only) */
  warmupLoops: number;
  /** --max-prompt (words) */
  maxPrompt: number;
  /** replay: the prompts in file order (cycled when the load asks for more). */
  prompts?: readonly string[];
  tracker: ConcurrencyTracker;
  /** Every prompt is appended here as it is sent (generate, warmup). */
  writer?: PromptsWriter | null;
  maxTokens?: number | null;
  /** The dataset column of the records (default: the mode). */
  dataset?: string;
  /** Free-form tags kept in every record's extra (policy, label). */
  tags?: Record<string, unknown>;
}

/** What the generator decided for one request (also kept in the record's `extra`). */
export interface Decision {
  seq: number;
  gpu: number;
  phase: 'warmup' | 'main';
  words: number;
  concurrency: number | null;
  source: string | null;
}

export class ImbalanceSource {
  seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly sizes: number[];

  constructor(private readonly o: SourceOptions) {
    this.sizes = warmupSizes(o.k, o.numGpus, o.maxPrompt);
    if (o.mode === 'replay' && !o.prompts?.length) throw new Error('replay needs prompts');
  }

  /**
   * The next item; calls are served one after another in call order, each reading its GPU's
   * concurrency only after the previous item is out, as the old loop did. (Look-ups in parallel
   * would send bursts over several connections that reach the balancer out of order, so its
   * round-robin would no longer be the client's.)
   */
  next(): Promise<WorkItem> {
    const p = this.chain.then(() => this.make());
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The size rule alone, for tests: which GPU, phase and word count request `seq` gets. */
  async decide(seq: number): Promise<Decision> {
    const o = this.o;
    const gpu = seq % o.numGpus;
    const loop = Math.floor(seq / o.numGpus);
    if (o.mode === 'replay') return { seq, gpu, phase: 'main', words: 0, concurrency: null, source: null };
    if (o.mode === 'warmup' || loop < o.warmupLoops) return { seq, gpu, phase: 'warmup', words: this.sizes[gpu]!, concurrency: null, source: null };
    const c = await o.tracker.read(gpu);
    return { seq, gpu, phase: 'main', words: concurrencyWords(c.value, o.maxPrompt), concurrency: c.value, source: c.source };
  }

  private async make(): Promise<WorkItem> {
    const o = this.o;
    const seq = this.seq++;
    const d = await this.decide(seq);
    const prompt = o.mode === 'replay' ? o.prompts![seq % o.prompts!.length]! : wordsPrompt(d.words, seq);
    o.writer?.write(prompt);
    o.tracker.started(d.gpu);
    const words = o.mode === 'replay' ? countWords(prompt) : d.words;
    return {
      prompt,
      maxTokens: o.maxTokens ?? null,
      base: {
        gpu: d.gpu,
        phase: d.phase,
        dataset: o.dataset ?? o.mode,
        prompt_hash: promptHash(prompt),
        prompt_words: words,
        extra: { ...o.tags, seq, gpu_assigned: d.gpu, concurrency: d.concurrency, concurrency_source: d.source },
      },
    };
  }
}

/** Whitespace-separated words without splitting a 65,536-word prompt into an array. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}
