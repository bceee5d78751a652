// The MoE router's topic lexicon, derived from domain query texts (by default the experiment's
// data/domain_queries.json, 25 domains): a word belongs to the domain that uses it most.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Domain → its query texts (or plain word lists). */
export type DomainTexts = Readonly<Record<string, readonly string[]>>;

export interface TopicLexicon {
  /** Topic names, in the order of the domains given (topic index = position). */
  topics: string[];
  /** word → topic index. */
  words: Map<string, number>;
}

/** Words that say nothing about a topic: never in the lexicon, never hashed. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  ('the a an of to and or in on for is are was were be been it its this that these those with as at by from you i we my your ' +
    'what how why can do does did not me our they them their there here when where which who whom whose if so but than then ' +
    'into about would should could will just any some all more most very also get make s t don doesn isn what s ll re ve d m')
    .split(' ')
    .filter(Boolean),
);

/** Lower-cased word tokens of a text, stop words removed. */
export function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const w of text.toLowerCase().match(/[a-z0-9_]+/g) ?? []) if (!STOP_WORDS.has(w)) out.push(w);
  return out;
}

/**
 * A word is assigned to domain d when at least `purity` of the texts containing it come from d
 * (counted once per text); words shared more evenly stay out (the router hashes them). Each
 * domain's own name is one of its words. Deterministic: domains in the given order.
 */
export function deriveLexicon(domains: DomainTexts, purity = 0.6): TopicLexicon {
  const topics = Object.keys(domains);
  const perWord = new Map<string, Int32Array>();
  topics.forEach((name, d) => {
    const docs = [[name.toLowerCase()], ...domains[name]!.map((t) => contentWords(t))];
    for (const words of docs) {
      for (const w of new Set(words)) {
        let row = perWord.get(w);
        if (!row) perWord.set(w, (row = new Int32Array(topics.length)));
        row[d]!++;
      }
    }
  });
  const words = new Map<string, number>();
  for (const [w, row] of perWord) {
    let best = 0;
    let total = 0;
    for (let d = 0; d < row.length; d++) {
      total += row[d]!;
      if (row[d]! > row[best]!) best = d;
    }
    if (row[best]! / total >= purity) words.set(w, best);
  }
  return { topics, words };
}

export const DEFAULT_DOMAIN_FILE = fileURLToPath(new URL('../../data/domain_queries.json', import.meta.url));

let cached: DomainTexts | undefined;

/** The bundled domain queries ({domains: {name: [query…]}}), read once. */
export function defaultDomains(read: (file: string) => string = (f) => fs.readFileSync(f, 'utf8')): DomainTexts {
  if (cached) return cached;
  const doc = JSON.parse(read(DEFAULT_DOMAIN_FILE)) as { domains?: unknown };
  const obj = (doc?.domains ?? doc) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [d, qs] of Object.entries(obj)) {
    if (!Array.isArray(qs) || !qs.every((q) => typeof q === 'string')) throw new Error(`${DEFAULT_DOMAIN_FILE}: domains.${d}: expected a list of strings`);
    out[d] = qs as string[];
  }
  if (Object.keys(out).length < 2) throw new Error(`${DEFAULT_DOMAIN_FILE}: domains: needs at least 2 domains`);
  return (cached = out);
}
