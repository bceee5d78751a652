// The old generator's prompt sizes: the warm-up's k^n … k^1 words per GPU in round-robin
// order, the main phase's concurrency² words, and the prompt text of a given word count.

/** Warm-up words per GPU: GPU0 gets k^n, GPU1 k^(n−1), …, GPU n−1 k^1 (capped at maxPrompt). */
export function warmupSizes(k: number, n: number, maxPrompt = Infinity): number[] {
  return Array.from({ length: n }, (_, gpu) => Math.min(k ** (n - gpu), maxPrompt));
}

/** Main-phase words for a GPU with `concurrency` requests in flight: min(c², maxPrompt), at least one. */
export function concurrencyWords(concurrency: number, maxPrompt: number): number {
  const c = Math.max(0, concurrency);
  return Math.max(1, Math.min(c * c, maxPrompt));
}

/** A small fixed vocabulary; one Llama token per word with its leading space. */
const WORDS = ('the of and to in is was for on that with as by at from his an were are which this be has or had not but ' +
  'one first new also their after two its who her they have been other all when time there during more into only years over ' +
  'some city world year most school state used out so up part between where can under season known people team she than can')
  .split(' ');

/** A prompt of exactly `words` words; `seed` shifts the start so successive prompts differ. */
export function wordsPrompt(words: number, seed = 0): string {
  const out = new Array<string>(words);
  const n = WORDS.length;
  let j = ((seed % n) + n) % n;
  for (let i = 0; i < words; i++) {
    out[i] = WORDS[j]!;
    j = j + 1 === n ? 0 : j + 1;
  }
  return out.join(' ');
}
