// Dataset generation for the MoE imbalance experiment: 50 prompt sets drawn from the domain
// queries with different imbalance-inducing strategies, each scored by the ImbalancePredictor.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, inputError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { pickWeighted, seededRng, shuffle, type Rng } from '../rng.ts';
import { PREDICTOR_FORMULA, PREDICTOR_WEIGHTS, predictImbalance, type PredictorComponents } from './predictor.ts';

export const DEFAULT_QUERIES = fileURLToPath(new URL('../../data/domain_queries.json', import.meta.url));

export type DomainQueries = Record<string, string[]>;

/** Reads data/domain_queries.json ({domains: {name: [query…]}} or a bare {name: [query…]}). */
export function loadDomainQueries(file = DEFAULT_QUERIES): DomainQueries {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file}: cannot read domain queries: ${(err as Error).message}`);
  }
  const obj = (doc as { domains?: unknown })?.domains ?? doc;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw inputError(file, 'domains', 'expected an object of domain → list of queries');
  const out: DomainQueries = {};
  for (const [d, qs] of Object.entries(obj as Record<string, unknown>)) {
    if (!Array.isArray(qs) || qs.length === 0 || !qs.every((q) => typeof q === 'string' && q.trim() !== '')) {
      throw inputError(file, `domains.${d}`, 'expected a non-empty list of non-empty strings');
    }
    out[d] = qs as string[];
  }
  if (Object.keys(out).length < 2) throw inputError(file, 'domains', 'needs at least 2 domains');
  return out;
}

/** The strategies, tagged by kind; params say how strongly each one skews the workload. */
export type Strategy =
  | { kind: 'single_domain' }
  | { kind: 'few_domains'; domains: number }
  | { kind: 'skewed_mix'; zipf: number }
  | { kind: 'uniform_mix' }
  | { kind: 'repeat_one'; fraction: number }
  | { kind: 'domain_repeat'; distinct: number }
  | { kind: 'long_prompts'; domains: number; perPrompt: number }
  | { kind: 'length_mix'; longShare: number };

export const STRATEGY_KINDS = ['single_domain', 'few_domains', 'skewed_mix', 'uniform_mix', 'repeat_one', 'domain_repeat', 'long_prompts', 'length_mix'] as const;

export interface DatasetLine {
  prompt: string;
  domain: string;
  strategy: Strategy['kind'];
  dataset_index: number;
}

/** The 50 (or more) strategy settings, cycling kinds and stepping their parameters. */
export function strategyPlan(count: number): Strategy[] {
  const cycle: ((k: number) => Strategy)[] = [
    () => ({ kind: 'single_domain' }),
    (k) => ({ kind: 'few_domains', domains: 2 + (k % 4) }),
    (k) => ({ kind: 'skewed_mix', zipf: [0.6, 1.0, 1.5, 2.2][k % 4]! }),
    () => ({ kind: 'uniform_mix' }),
    (k) => ({ kind: 'repeat_one', fraction: [0.2, 0.4, 0.6, 0.8, 1.0][k % 5]! }),
    (k) => ({ kind: 'domain_repeat', distinct: [3, 6, 10][k % 3]! }),
    (k) => ({ kind: 'long_prompts', domains: [1, 3, 25][k % 3]!, perPrompt: 3 + (k % 3) }),
    (k) => ({ kind: 'length_mix', longShare: [0.1, 0.3, 0.5, 0.7][k % 4]! }),
  ];
  return Array.from({ length: count }, (_, i) => cycle[i % cycle.length]!(Math.floor(i / cycle.length)));
}

interface Picked {
  prompt: string;
  domain: string;
}

function pick(qs: DomainQueries, domain: string, rng: Rng): Picked {
  const list = qs[domain]!;
  return { prompt: list[rng.int(list.length)]!, domain };
}

/** Distinct queries of one domain, cycling (in a fresh order) when more are needed. */
function distinctFrom(qs: DomainQueries, domain: string, n: number, rng: Rng): Picked[] {
  const out: Picked[] = [];
  let pool: string[] = [];
  while (out.length < n) {
    if (pool.length === 0) pool = shuffle([...qs[domain]!], rng);
    out.push({ prompt: pool.pop()!, domain });
  }
  return out;
}

function longPrompt(qs: DomainQueries, domain: string, parts: number, rng: Rng): Picked {
  const items = distinctFrom(qs, domain, parts, rng).map((p, i) => `${i + 1}. ${p.prompt}`);
  return { prompt: `I have a few related questions. Please answer each one in turn.\n${items.join('\n')}`, domain };
}

/** Makes the prompts of one dataset for a strategy. */
export function makePrompts(strategy: Strategy, qs: DomainQueries, n: number, rng: Rng): Picked[] {
  const domains = Object.keys(qs);
  const some = (k: number) => shuffle([...domains], rng).slice(0, Math.min(k, domains.length));
  switch (strategy.kind) {
    case 'single_domain':
      return distinctFrom(qs, some(1)[0]!, n, rng);
    case 'few_domains': {
      const ds = some(strategy.domains);
      return shuffle(ds.flatMap((d, i) => distinctFrom(qs, d, Math.ceil((n - i) / ds.length), rng)), rng).slice(0, n);
    }
    case 'skewed_mix': {
      const ds = shuffle([...domains], rng);
      const weights = ds.map((_, r) => 1 / (r + 1) ** strategy.zipf);
      return Array.from({ length: n }, () => pick(qs, ds[pickWeighted(weights, rng)]!, rng));
    }
    case 'uniform_mix':
      return Array.from({ length: n }, (_, i) => pick(qs, domains[(i + rng.int(domains.length)) % domains.length]!, rng));
    case 'repeat_one': {
      const one = pick(qs, some(1)[0]!, rng);
      const repeats = Math.round(n * strategy.fraction);
      const rest = Array.from({ length: n - repeats }, () => pick(qs, domains[rng.int(domains.length)]!, rng));
      return shuffle([...Array.from({ length: repeats }, () => one), ...rest], rng);
    }
    case 'domain_repeat': {
      const base = distinctFrom(qs, some(1)[0]!, strategy.distinct, rng);
      return Array.from({ length: n }, () => base[rng.int(base.length)]!);
    }
    case 'long_prompts': {
      const ds = some(strategy.domains);
      return Array.from({ length: n }, () => longPrompt(qs, ds[rng.int(ds.length)]!, strategy.perPrompt, rng));
    }
    case 'length_mix': {
      const longs = Math.round(n * strategy.longShare);
      const out = Array.from({ length: n }, (_, i) => {
        const d = domains[rng.int(domains.length)]!;
        return i < longs ? longPrompt(qs, d, 4 + rng.int(4), rng) : pick(qs, d, rng);
      });
      return shuffle(out, rng);
    }
  }
}

export interface DatasetEntry {
  index: number;
  file: string;
  name: string;
  score: number;
  strategy: Strategy;
  prompts: number;
  components: PredictorComponents;
}

export interface DatasetsIndex {
  generated_by: string;
  seed: number;
  prompts_per_dataset: number;
  formula: string;
  weights: typeof PREDICTOR_WEIGHTS;
  datasets: DatasetEntry[];
}

export interface GenerateOptions {
  outDir: string;
  count?: number;
  promptsPerDataset?: number;
  seed?: number;
  queriesFile?: string;
}

export const INDEX_FILE = 'index.json';

export const datasetFileName = (index: number, score: number) => `${String(index).padStart(3, '0')}_${score.toFixed(4)}.jsonl`;

/** Writes the datasets, index.json and the score-distribution spec; returns the index. */
export function generateDatasets(opts: GenerateOptions): DatasetsIndex {
  const count = opts.count ?? 50;
  const n = opts.promptsPerDataset ?? 30;
  const seed = opts.seed ?? 0;
  const qs = loadDomainQueries(opts.queriesFile);
  const domainCount = Object.keys(qs).length;
  fs.mkdirSync(opts.outDir, { recursive: true });
  for (const f of fs.readdirSync(opts.outDir)) if (/^\d{3}_\d+\.\d{4}\.jsonl$/.test(f)) fs.rmSync(path.join(opts.outDir, f));
  const rng = seededRng(seed);
  const datasets: DatasetEntry[] = strategyPlan(count).map((strategy, i) => {
    const index = i + 1;
    const prompts = makePrompts(strategy, qs, n, rng);
    const { score, components } = predictImbalance(prompts, domainCount);
    const file = datasetFileName(index, score);
    const lines: DatasetLine[] = prompts.map((p) => ({ prompt: p.prompt, domain: p.domain, strategy: strategy.kind, dataset_index: index }));
    writeFileAtomic(path.join(opts.outDir, file), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return { index, file, name: file.replace(/\.jsonl$/, ''), score, strategy, prompts: prompts.length, components };
  });
  const index: DatasetsIndex = {
    generated_by: 'servelab moe datasets',
    seed,
    prompts_per_dataset: n,
    formula: PREDICTOR_FORMULA,
    weights: PREDICTOR_WEIGHTS,
    datasets,
  };
  writeFileAtomic(path.join(opts.outDir, INDEX_FILE), JSON.stringify(index, null, 2) + '\n');
  return index;
}

export interface DatasetPrompt {
  prompt: string;
  domain: string | null;
  /** The generation strategy the line names (datasets made by `moe datasets` carry it). */
  strategy: string | null;
  line: number;
}

/** Reads one dataset JSONL file: every non-blank line an object with a non-empty `prompt`. */
export function readDataset(file: string): DatasetPrompt[] {
  if (!fs.existsSync(file)) throw new CliError(`${file}: dataset not found`);
  const out: DatasetPrompt[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw inputError(where, undefined, `not valid JSON (${(err as Error).message})`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw inputError(where, undefined, 'expected a JSON object with a "prompt" field');
    const rec = obj as Record<string, unknown>;
    if (!('prompt' in rec)) throw inputError(where, 'prompt', 'missing');
    if (typeof rec.prompt !== 'string' || rec.prompt.trim() === '') throw inputError(where, 'prompt', `expected a non-empty string, got ${JSON.stringify(rec.prompt)}`);
    if (rec.domain !== undefined && rec.domain !== null && typeof rec.domain !== 'string') throw inputError(where, 'domain', 'expected a string');
    out.push({ prompt: rec.prompt, domain: (rec.domain as string | undefined) ?? null, strategy: typeof rec.strategy === 'string' ? rec.strategy : null, line: i + 1 });
  });
  if (out.length === 0) throw new CliError(`${file}: dataset has no prompts`);
  return out;
}

/** The score-distribution chart (Vega-Lite): a histogram of scores, coloured by strategy. */
export function scoreDistributionSpec(index: DatasetsIndex): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Predicted imbalance score of ${index.datasets.length} datasets`,
    width: 480,
    height: 240,
    data: { values: index.datasets.map((d) => ({ index: d.index, score: d.score, strategy: d.strategy.kind })) },
    mark: 'bar',
    encoding: {
      x: { field: 'score', type: 'quantitative', bin: { maxbins: 20 }, title: 'predicted imbalance score' },
      y: { aggregate: 'count', type: 'quantitative', title: 'datasets' },
      color: { field: 'strategy', type: 'nominal', title: 'strategy' },
    },
  };
}
