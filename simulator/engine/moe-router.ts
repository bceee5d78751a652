// A seeded MoE router whose choices depend on the prompt's content: words map to topics (a
// lexicon derived from the experiment's domain queries, else a hash), a prompt's topic vector
// mixes per-topic expert preferences. One-domain or repeated prompts load the same experts;
// mixed datasets spread.
import { createRng, hashString, type Rng } from '../rng.ts';
import { contentWords, defaultDomains, deriveLexicon, type DomainTexts } from './moe-lexicon.ts';

export interface MoeRouterConfig {
  /** MoE layers routed (the model's moeLayers). */
  layers: number;
  experts: number;
  topK: number;
  /** Expert-parallel ranks (experts split in contiguous blocks); 1 = no EP. */
  epRanks?: number;
  /** 0 = uniform routing, 1 = all mass on the topics' preferences. Default 0.7. */
  skew?: number;
  /** Zipf exponent of a topic's preference over experts (higher = more concentrated). Default 1.1. */
  zipf?: number;
  /** Topics; default the number of domains (25 for data/domain_queries.json). Fewer folds domains together. */
  topics?: number;
  /**
   * Share of the topic-driven mass that follows the prompt itself (a seeded expert preference
   * hashed from its exact text) rather than its topics: identical prompts route alike, distinct
   * prompts of one domain differ in part. Default 0.3.
   */
  promptShare?: number;
  /**
   * Share of a topic's (and a prompt's) expert preference that is the same in every layer (by
   * expert index); the rest is drawn per layer. Loads summed over layers (the aggregated CV of
   * new_real_imbalance.py) keep the topic's skew only through this share. Default 0.5.
   */
  layerShare?: number;
  /** Sharpness of a prompt's topic vector (softmax temperature inverse). Default 4. */
  sharpness?: number;
  /**
   * Domain → query texts the topic lexicon is derived from (topic index = domain position);
   * default data/domain_queries.json. Words outside the lexicon hash to a topic.
   */
  domains?: DomainTexts;
  /** Extra words per topic index, added to the derived lexicon. */
  lexicon?: Record<number, readonly string[]>;
  seed: number;
}

export interface RequestRouting {
  /** Per layer, the cumulative distribution over experts (layers × experts). */
  cdf: Float64Array;
}

export interface MoeStepLoad {
  counts: number[][];
  distinctExperts: number;
  maxRankTokens: number;
  maxExpertTokens: number;
  /** Mean over layers of the most experts hit on one EP rank. */
  maxRankExperts: number;
}

export interface MoeRouter {
  readonly config: Required<Omit<MoeRouterConfig, 'lexicon' | 'domains'>>;
  /** Topic names (the domains), topic index = position. */
  readonly topicNames: readonly string[];
  /** The topic vector of a text (sums to 1). */
  topicVector(content: string): Float64Array;
  /** The routing distribution of a request, from its content. */
  profile(content: string): RequestRouting;
  /** Starts a step: fresh counts. */
  beginStep(): void;
  /** Routes `tokens` tokens of a request in the current step. */
  route(r: RequestRouting, tokens: number): void;
  /**
   * Per-token expert ids of a request, tokens × layers × topK in C order, drawn from its routing
   * with a generator of its own (seeded by `key`): what vLLM's --enable-return-routed-experts
   * returns. Same distribution as the step counts; the draws are the request's own.
   */
  expertIds(r: RequestRouting, tokens: number, key: string): Int32Array;
  /** Ends the step: the counts and their aggregates. */
  endStep(): MoeStepLoad;
}

export function createMoeRouter(cfg: MoeRouterConfig): MoeRouter {
  const derived = deriveLexicon(cfg.domains ?? defaultDomains());
  const c = {
    layers: cfg.layers,
    experts: cfg.experts,
    topK: cfg.topK,
    epRanks: cfg.epRanks ?? 1,
    skew: cfg.skew ?? 0.7,
    zipf: cfg.zipf ?? 1.1,
    topics: cfg.topics ?? derived.topics.length,
    sharpness: cfg.sharpness ?? 4,
    promptShare: cfg.promptShare ?? 0.3,
    layerShare: cfg.layerShare ?? 0.5,
    seed: cfg.seed,
  };
  const { layers: L, experts: E, topK: K, topics: D } = c;
  if (!Number.isInteger(L) || L < 1) throw new Error(`moe.layers: ${L} must be a whole number ≥ 1`);
  if (!Number.isInteger(E) || E < 1) throw new Error(`moe.experts: ${E} must be a whole number ≥ 1`);
  if (!Number.isInteger(K) || K < 1 || K > E) throw new Error(`moe.topK: ${K} must be a whole number in [1, experts=${E}]`);
  if (!Number.isInteger(c.epRanks) || c.epRanks < 1 || E % c.epRanks !== 0) throw new Error(`moe.epRanks: ${c.epRanks} must divide the ${E} experts`);
  if (!(c.skew >= 0 && c.skew <= 1)) throw new Error(`moe.skew: ${c.skew} must be in [0, 1]`);
  if (!(c.layerShare >= 0 && c.layerShare <= 1)) throw new Error(`moe.layerShare: ${c.layerShare} must be in [0, 1]`);
  if (!(c.promptShare >= 0 && c.promptShare <= 1)) throw new Error(`moe.promptShare: ${c.promptShare} must be in [0, 1]`);
  if (!(c.zipf >= 0)) throw new Error(`moe.zipf: ${c.zipf} must be ≥ 0`);
  if (!Number.isInteger(D) || D < 1) throw new Error(`moe.topics: ${D} must be a whole number ≥ 1`);

  const lex = new Map<string, number>();
  for (const [w, d] of derived.words) lex.set(w, d % D);
  for (const [d, words] of Object.entries(cfg.lexicon ?? {})) for (const w of words) lex.set(w.toLowerCase(), Number(d) % D);

  // Per (topic, layer): Zipf weights on seeded permutations of the experts → pref[(d·L + l)·E + e].
  // A share `layerShare` follows one permutation for every layer of the topic (its experts are hot
  // by index in every layer), the rest a permutation of its own per layer.
  const pref = new Float64Array(D * L * E);
  const setupRng = createRng(c.seed, 'moe-preferences');
  const perm = new Int32Array(E);
  let zsum = 0;
  for (let i = 0; i < E; i++) zsum += 1 / Math.pow(i + 1, c.zipf);
  const zw = new Float64Array(E);
  for (let i = 0; i < E; i++) zw[i] = 1 / Math.pow(i + 1, c.zipf) / zsum;
  /** Shuffles `perm` with `rng`, then adds weight·zipf(rank) to out[base + expert]. */
  const addZipf = (rng: Rng, out: Float64Array, base: number, weight: number, shuffle = true): void => {
    if (shuffle) {
      for (let i = 0; i < E; i++) perm[i] = i;
      for (let i = E - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
      }
    }
    for (let i = 0; i < E; i++) out[base + perm[i]!]! += weight * zw[i]!;
  };
  /** Fills out[l·E + e] (or at `offset`) for L layers: the shared part, then each layer's own. */
  const layeredPref = (rng: Rng, out: Float64Array, offset: number): void => {
    addZipf(rng, out, offset, c.layerShare);
    for (let l = 1; l < L; l++) addZipf(rng, out, offset + l * E, c.layerShare, false);
    for (let l = 0; l < L; l++) addZipf(rng, out, offset + l * E, 1 - c.layerShare);
  };
  for (let d = 0; d < D; d++) layeredPref(setupRng, pref, d * L * E);

  const topicVector = (content: string): Float64Array => {
    const counts = new Float64Array(D);
    for (const w of contentWords(content)) {
      const d = lex.get(w);
      if (d !== undefined) counts[d]! += 4;
      else counts[hashString(w, c.seed) % D]! += 1;
    }
    let max = 0;
    for (let d = 0; d < D; d++) max = Math.max(max, counts[d]!);
    const v = new Float64Array(D);
    let sum = 0;
    for (let d = 0; d < D; d++) {
      v[d] = max > 0 ? Math.exp(c.sharpness * (counts[d]! / max - 1)) : 1;
      sum += v[d]!;
    }
    for (let d = 0; d < D; d++) v[d]! /= sum;
    return v;
  };

  const own = new Float64Array(L * E);
  const profile = (content: string): RequestRouting => {
    const v = topicVector(content);
    const cdf = new Float64Array(L * E);
    const floor = (1 - c.skew) / E;
    const wTopic = c.skew * (1 - c.promptShare);
    const wOwn = c.skew * c.promptShare;
    const ownRng = createRng(c.seed, `moe-prompt:${content}`);
    // the prompt's own preference: Zipf weights on permutations seeded by its exact text
    own.fill(0);
    layeredPref(ownRng, own, 0);
    for (let l = 0; l < L; l++) {
      let acc = 0;
      for (let e = 0; e < E; e++) {
        let p = floor + wOwn * own[l * E + e]!;
        for (let d = 0; d < D; d++) p += wTopic * v[d]! * pref[(d * L + l) * E + e]!;
        acc += p;
        cdf[l * E + e] = acc;
      }
      for (let e = 0; e < E; e++) cdf[l * E + e]! /= acc;
    }
    return { cdf };
  };

  const rng: Rng = createRng(c.seed, 'moe-routing');
  const flat = new Float64Array(L * E);
  const picked = new Int32Array(E).fill(-1);
  let stamp = 0;

  const draw = (g: Rng, cdf: Float64Array, base: number): number => {
    const u = g.next();
    let lo = 0;
    let hi = E - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[base + mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  /** One token's top-k distinct experts of one layer, into `chosen` (no allocation per token). */
  const chosen = new Int32Array(K);
  const topK = (g: Rng, cdf: Float64Array, base: number): void => {
    stamp++;
    for (let k = 0; k < K; k++) {
      // top-k distinct experts: redraw a repeat, then fall back to a scan after a few tries
      let e = draw(g, cdf, base);
      let tries = 0;
      while (picked[e] === stamp && tries < 32) {
        e = draw(g, cdf, base);
        tries++;
      }
      if (picked[e] === stamp) {
        e = 0;
        while (picked[e] === stamp) e++;
      }
      picked[e] = stamp;
      chosen[k] = e;
    }
  };

  return {
    config: c,
    topicNames: derived.topics.slice(0, D),
    topicVector,
    profile,
    beginStep() {
      flat.fill(0);
    },
    route(r, tokens) {
      for (let t = 0; t < tokens; t++) {
        for (let l = 0; l < L; l++) {
          const base = l * E;
          topK(rng, r.cdf, base);
          for (let k = 0; k < K; k++) flat[base + chosen[k]!]!++;
        }
      }
    },
    expertIds(r, tokens, key) {
      const g = createRng(c.seed, `moe-ids:${key}`);
      const out = new Int32Array(tokens * L * K);
      for (let t = 0; t < tokens; t++) {
        for (let l = 0; l < L; l++) {
          topK(g, r.cdf, l * E);
          out.set(chosen, (t * L + l) * K);
        }
      }
      return out;
    },
    endStep() {
      const counts: number[][] = new Array(L);
      const perRank = E / c.epRanks;
      let distinct = 0;
      let maxRank = 0;
      let maxExpert = 0;
      let maxRankHit = 0;
      for (let l = 0; l < L; l++) {
        const row = new Array<number>(E);
        let rankLoad = 0;
        let lMaxRank = 0;
        let lMaxExpert = 0;
        let rankHit = 0;
        let lMaxRankHit = 0;
        for (let e = 0; e < E; e++) {
          const n = flat[l * E + e]!;
          row[e] = n;
          if (n > 0) {
            distinct++;
            rankHit++;
          }
          if (n > lMaxExpert) lMaxExpert = n;
          rankLoad += n;
          if ((e + 1) % perRank === 0) {
            if (rankLoad > lMaxRank) lMaxRank = rankLoad;
            if (rankHit > lMaxRankHit) lMaxRankHit = rankHit;
            rankLoad = 0;
            rankHit = 0;
          }
        }
        maxRankHit += lMaxRankHit;
        counts[l] = row;
        maxRank += lMaxRank;
        maxExpert += lMaxExpert;
      }
      return { counts, distinctExperts: distinct / L, maxRankTokens: maxRank / L, maxExpertTokens: maxExpert / L, maxRankExperts: maxRankHit / L };
    },
  };
}
