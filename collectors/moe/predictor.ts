// The ImbalancePredictor: a score in [0, 1] of how unevenly a dataset's prompts should load an
// MoE model's experts, from the prompts alone, so datasets can be ordered before any server runs.
//
// Components (each in [0, 1], higher = more imbalance expected):
//   domain_concentration = 1 − H(domains) / ln(D)        H = Shannon entropy of the share of
//                          prompts per domain, D = number of domains in the source (25);
//                          one domain → 1, all domains equally → 0. (Similar tokens route to
//                          similar experts, so few domains concentrate the routing.)
//   domain_hhi           = Σ share²  (Herfindahl–Hirschman index; reported, not in the score)
//   repetition           = 1 − distinct prompts / prompts   (exact repeats, case-folded)
//   vocab_overlap        = mean over prompt pairs of the Jaccard similarity of their word sets
//   length_variance      = min(1, CV(prompt words) / 1.5)   CV = population std / mean
// Score = 0.40·domain_concentration + 0.25·repetition + 0.20·vocab_overlap + 0.15·length_variance.

export const PREDICTOR_WEIGHTS = {
  domain_concentration: 0.4,
  repetition: 0.25,
  vocab_overlap: 0.2,
  length_variance: 0.15,
} as const;

export const PREDICTOR_FORMULA =
  'score = 0.40*domain_concentration + 0.25*repetition + 0.20*vocab_overlap + 0.15*length_variance; ' +
  'domain_concentration = 1 - H(domain shares)/ln(D); repetition = 1 - distinct/total prompts; ' +
  'vocab_overlap = mean pairwise Jaccard of word sets; length_variance = min(1, CV(words)/1.5)';

export interface PredictorComponents {
  domain_concentration: number;
  domain_hhi: number;
  repetition: number;
  vocab_overlap: number;
  length_variance: number;
  /** Mean prompt length in words (reported). */
  mean_words: number;
  /** Distinct domains present (reported). */
  domains: number;
}

export interface Prediction {
  score: number;
  components: PredictorComponents;
}

export interface PromptItem {
  prompt: string;
  domain?: string | null;
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
}

/** Pairs compared for vocab_overlap are capped so a 10,000-prompt file stays fast. */
const MAX_PAIR_PROMPTS = 200;

export function predictImbalance(items: readonly PromptItem[], domainCount = 25): Prediction {
  const n = items.length;
  if (n === 0) {
    const zero = { domain_concentration: 0, domain_hhi: 0, repetition: 0, vocab_overlap: 0, length_variance: 0, mean_words: 0, domains: 0 };
    return { score: 0, components: zero };
  }
  const byDomain = new Map<string, number>();
  for (const it of items) {
    const d = it.domain ?? 'unknown';
    byDomain.set(d, (byDomain.get(d) ?? 0) + 1);
  }
  let entropy = 0;
  let hhi = 0;
  for (const c of byDomain.values()) {
    const p = c / n;
    entropy -= p * Math.log(p);
    hhi += p * p;
  }
  const D = Math.max(domainCount, byDomain.size, 2);
  const domain_concentration = clamp01(1 - entropy / Math.log(D));

  const distinct = new Set(items.map((it) => it.prompt.trim().toLowerCase())).size;
  const repetition = n > 1 ? 1 - distinct / n : 0;

  const sets = items.slice(0, MAX_PAIR_PROMPTS).map((it) => new Set(words(it.prompt)));
  let jaccard = 0;
  let pairs = 0;
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const a = sets[i]!;
      const b = sets[j]!;
      let inter = 0;
      for (const w of a) if (b.has(w)) inter++;
      const union = a.size + b.size - inter;
      jaccard += union > 0 ? inter / union : 1;
      pairs++;
    }
  }
  const vocab_overlap = pairs > 0 ? jaccard / pairs : 0;

  const lengths = items.map((it) => words(it.prompt).length);
  const mean = lengths.reduce((s, x) => s + x, 0) / n;
  const variance = lengths.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  const cv = mean > 0 ? Math.sqrt(variance) / mean : 0;
  const length_variance = clamp01(cv / 1.5);

  const w = PREDICTOR_WEIGHTS;
  const score =
    w.domain_concentration * domain_concentration + w.repetition * repetition + w.vocab_overlap * vocab_overlap + w.length_variance * length_variance;
  return {
    score: round4(score),
    components: {
      domain_concentration: round4(domain_concentration),
      domain_hhi: round4(hhi),
      repetition: round4(repetition),
      vocab_overlap: round4(vocab_overlap),
      length_variance: round4(length_variance),
      mean_words: round4(mean),
      domains: byDomain.size,
    },
  };
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
