// `servelab imbalance init`: creates (or reopens, with --resume) the experiment run the pipeline
// writes into, with its config in the manifest; prints the run folder (collectors/run-steps.ts).
import { initCommand } from '../run-steps.ts';

export const { spec, run } = initCommand('imbalance', {
  examples: ['servelab imbalance init --config \'{"policies":["round-robin"]}\'', 'servelab imbalance init --dir data/runs/imbalance/20261123-051500-ab12'],
});
