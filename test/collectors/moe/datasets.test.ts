// Datasets and the ImbalancePredictor: hand-checked components, deterministic generation with
// the {index:03}_{score:.4f}.jsonl names, the shipped domain queries, and bad dataset lines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERIES, STRATEGY_KINDS, generateDatasets, loadDomainQueries, readDataset, strategyPlan } from '../../../collectors/moe/datasets.ts';
import { predictImbalance } from '../../../collectors/moe/predictor.ts';
import { run as datasetsCmd } from '../../../collectors/moe/cmd-datasets.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-ds-'));

describe('ImbalancePredictor', () => {
  it('computes each component as documented', () => {
    const one = predictImbalance(
      [
        { prompt: 'a b', domain: 'x' },
        { prompt: 'a b', domain: 'x' },
        { prompt: 'a b c d', domain: 'x' },
        { prompt: 'e f g h', domain: 'x' },
      ],
      25,
    );
    expect(one.components.domain_concentration).toBe(1); // one domain
    expect(one.components.domain_hhi).toBe(1);
    expect(one.components.repetition).toBe(0.25); // 3 distinct of 4
    // Jaccard pairs: (ab,ab)=1, (ab,abcd)=0.5 twice, (ab,efgh)=0 twice, (abcd,efgh)=0 → 2/6
    expect(one.components.vocab_overlap).toBeCloseTo(2 / 6, 4);
    // lengths 2,2,4,4: mean 3, std 1 → cv 1/3 → /1.5
    expect(one.components.length_variance).toBeCloseTo(1 / 3 / 1.5, 4);
    expect(one.score).toBeCloseTo(0.4 * 1 + 0.25 * 0.25 + 0.2 * (2 / 6) + 0.15 * (1 / 3 / 1.5), 3);

    // Two domains evenly out of 4: entropy ln 2 → 1 - ln2/ln4 = 0.5.
    const two = predictImbalance(
      [
        { prompt: 'p q', domain: 'x' },
        { prompt: 'r s', domain: 'y' },
      ],
      4,
    );
    expect(two.components.domain_concentration).toBe(0.5);
    expect(two.components.domain_hhi).toBe(0.5);
    expect(two.components.repetition).toBe(0);
    expect(two.components.vocab_overlap).toBe(0);
  });
});

describe('domain queries', () => {
  it('ships 25 domains of about 50 distinct queries', () => {
    const qs = loadDomainQueries(DEFAULT_QUERIES);
    expect(Object.keys(qs)).toHaveLength(25);
    const all = Object.values(qs).flat().map((q) => q.toLowerCase());
    expect(new Set(all).size).toBe(all.length);
    for (const list of Object.values(qs)) expect(list.length).toBeGreaterThanOrEqual(45);
  });
});

describe('moe datasets', () => {
  it('writes scored datasets, deterministic for a seed, covering every strategy', () => {
    const [a, b] = [tmp(), tmp()];
    const ia = generateDatasets({ outDir: a, count: 8, promptsPerDataset: 10, seed: 3 });
    const ib = generateDatasets({ outDir: b, count: 8, promptsPerDataset: 10, seed: 3 });
    expect(ia.datasets).toEqual(ib.datasets);
    expect(new Set(ia.datasets.map((d) => d.strategy.kind))).toEqual(new Set(STRATEGY_KINDS));
    for (const d of ia.datasets) {
      expect(d.file).toBe(`${String(d.index).padStart(3, '0')}_${d.score.toFixed(4)}.jsonl`);
      const prompts = readDataset(path.join(a, d.file));
      expect(prompts).toHaveLength(10);
      // The stored components reproduce the stored score.
      expect(predictImbalance(prompts, 25).score).toBe(d.score);
    }
    const idx = JSON.parse(fs.readFileSync(path.join(a, 'index.json'), 'utf8'));
    expect(idx.datasets[0].components).toHaveProperty('domain_concentration');
    expect(idx.formula).toMatch(/domain_concentration/);
    const scores = ia.datasets.map((d) => d.score);
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(0.3);
    expect(strategyPlan(50)).toHaveLength(50);
  });

  it('the command writes the score plot as a self-contained page', async () => {
    const out = tmp();
    const write = process.stdout.write;
    process.stdout.write = (() => true) as never;
    try {
      expect(await datasetsCmd(['--out', out, '--count', '4', '--prompts-per-dataset', '5'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const html = fs.readFileSync(path.join(out, 'score_distribution.html'), 'utf8');
    expect(html).toContain('Score distribution');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'score_distribution.vl.json'), 'utf8')).mark).toBe('bar');
  });

  it('names the file, line and field of a bad dataset line', () => {
    const dir = tmp();
    const f = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(f, '{"prompt":"ok"}\n{"prompt":42}\n');
    expect(() => readDataset(f)).toThrow(`${f}:2: prompt: expected a non-empty string, got 42`);
    fs.writeFileSync(f, '{"prompt":"ok"}\n\n{"text":"x"}\n');
    expect(() => readDataset(f)).toThrow(`${f}:3: prompt: missing`);
    fs.writeFileSync(f, '{"prompt":"ok"}\n{"prompt": "x"\n');
    expect(() => readDataset(f)).toThrow(new RegExp(`${f}:2: not valid JSON`));
  });
});
