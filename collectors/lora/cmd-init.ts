// `servelab lora init`: creates (or reopens, with --resume) the experiment run the pipeline writes
// into, with its config in the manifest; prints the run folder (collectors/run-steps.ts).
import { initCommand } from '../run-steps.ts';

export const { spec, run } = initCommand('lora', {
  examples: ['servelab lora init --config \'{"quick":true}\'', 'servelab lora init --dir data/runs/lora/20261123-051500-ab12'],
});
