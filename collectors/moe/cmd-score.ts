// `servelab moe score FILE`: the ImbalancePredictor's score and components of one dataset file,
// as JSON (client.mjs puts them into its result JSON, as the old benchmark.py did).
import { type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { readDataset } from './datasets.ts';
import { PREDICTOR_FORMULA, predictImbalance } from './predictor.ts';

export const spec: CommandSpec = {
  name: 'moe score',
  summary: "print a dataset's predicted imbalance score and its components as JSON",
  options: {},
  positionals: [{ name: 'dataset', help: 'dataset JSONL file', required: true }],
  examples: ['servelab moe score datasets/007_0.4907.jsonl'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const prompts = readDataset(p.positionals[0]!);
  const { score, components } = predictImbalance(prompts);
  process.stdout.write(JSON.stringify({ imbalance_score: score, components, formula: PREDICTOR_FORMULA }, null, 2) + '\n');
  return 0;
}
