// `servelab moe datasets`: writes {index:03}_{score:.4f}.jsonl datasets, index.json with the
// predictor's components per dataset, and the score-distribution chart (Vega-Lite + HTML).
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { formatTable } from '../../core/output.ts';
import { renderReport } from '../../reports/html.ts';
import type { TopLevelSpec } from 'vega-lite';
import { generateDatasets, scoreDistributionSpec, type DatasetsIndex } from './datasets.ts';
import { PREDICTOR_FORMULA } from './predictor.ts';

export const spec: CommandSpec = {
  name: 'moe datasets',
  summary: 'make datasets with different imbalance-inducing strategies, scored by the ImbalancePredictor',
  description:
    'Strategies: single_domain, few_domains, skewed_mix (Zipf over domains), uniform_mix, repeat_one (one query repeated), ' +
    'domain_repeat (a few queries of one domain repeated), long_prompts (multi-question prompts), length_mix (short and long). ' +
    `Predictor: ${PREDICTOR_FORMULA}.`,
  options: {
    out: { type: 'string', help: 'output folder', default: 'datasets', metavar: 'DIR' },
    count: { type: 'integer', help: 'datasets to make', default: 50, min: 1 },
    'prompts-per-dataset': { type: 'integer', help: 'prompts in each dataset', default: 30, min: 1 },
    seed: { type: 'integer', help: 'random seed (same seed, same datasets)', default: 0 },
    queries: { type: 'string', help: 'domain queries file (default: the shipped data/domain_queries.json)', metavar: 'FILE' },
  },
  examples: ['servelab moe datasets --out datasets', 'servelab moe datasets --out /tmp/ds --count 8 --prompts-per-dataset 10 --seed 7'],
};

/** Writes score_distribution.vl.json and score_distribution.html beside the datasets. */
export async function writeScorePlot(dir: string, index: DatasetsIndex): Promise<string> {
  const vl = scoreDistributionSpec(index);
  writeFileAtomic(path.join(dir, 'score_distribution.vl.json'), JSON.stringify(vl, null, 2) + '\n');
  const { data, ...specNoData } = vl as { data: { values: Record<string, unknown>[] } };
  const page = renderReport({
    title: 'Predicted imbalance of the datasets',
    subtitle: `${index.datasets.length} datasets, seed ${index.seed}; ${index.formula}`,
    sections: [
      { title: 'Score distribution', chart: { spec: specNoData as TopLevelSpec, data: data.values, csvName: 'score_distribution' } },
      {
        title: 'Datasets',
        table: {
          columns: [{ key: 'file' }, { key: 'strategy' }, { key: 'score', digits: 4 }, { key: 'domain_concentration', digits: 4 }, { key: 'repetition', digits: 4 }, { key: 'vocab_overlap', digits: 4 }, { key: 'length_variance', digits: 4 }],
          rows: index.datasets.map((d) => ({ file: d.file, strategy: d.strategy.kind, score: d.score, ...d.components })),
          csvName: 'datasets',
        },
      },
    ],
  });
  const file = path.join(dir, 'score_distribution.html');
  writeFileAtomic(file, page);
  return file;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const out = opt.str(p, 'out')!;
  const index = generateDatasets({
    outDir: out,
    count: opt.num(p, 'count'),
    promptsPerDataset: opt.num(p, 'prompts-per-dataset'),
    seed: opt.num(p, 'seed'),
    queriesFile: opt.str(p, 'queries'),
  });
  const plot = await writeScorePlot(out, index);
  const rows = index.datasets.map((d) => [d.file, d.strategy.kind, d.score, d.components.domain_concentration, d.components.repetition, d.components.vocab_overlap, d.components.length_variance]);
  process.stdout.write(formatTable(['file', 'strategy', 'score', 'domain_conc', 'repetition', 'vocab_overlap', 'length_var'], rows) + '\n');
  const scores = index.datasets.map((d) => d.score);
  process.stdout.write(
    `\n${index.datasets.length} datasets in ${out} (scores ${Math.min(...scores).toFixed(4)}–${Math.max(...scores).toFixed(4)})\n` +
      `index: ${path.join(out, 'index.json')}\nplot: ${plot}\n`,
  );
  return 0;
}
