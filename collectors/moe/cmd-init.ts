// `servelab moe init`: creates (or reopens, with --resume) the experiment run the pipeline writes
// into, with its config in the manifest; prints the run folder (collectors/run-steps.ts).
import { initCommand } from '../run-steps.ts';

export const { spec, run } = initCommand('moe', {
  configHelp: 'the pipeline settings as JSON (ep_size is read by moe_ep_rank_load)',
  examples: ['servelab moe init --config \'{"ep_size":4,"num_prompts":30}\'', 'servelab moe init --resume data/runs/moe/20261123-051500-ab12'],
});
