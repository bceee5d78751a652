// `servelab moe init`: creates (or reopens, with --resume) the experiment run the pipeline writes
// into, with its config in the manifest; prints the run folder.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { createRun } from '../../core/run.ts';

export const spec: CommandSpec = {
  name: 'moe init',
  summary: 'create the experiment run (or reopen one to resume) and print its folder',
  options: {
    data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
    'run-id': { type: 'string', help: 'run id (default: a new timestamped one)' },
    dir: { type: 'string', help: 'use this run folder (resume it when it exists)', metavar: 'DIR' },
    resume: { type: 'string', help: 'reopen this existing run folder (an error when it holds no run)', metavar: 'DIR' },
    config: { type: 'string', help: 'the pipeline settings as JSON (ep_size is read by moe_ep_rank_load)', metavar: 'JSON', default: '{}' },
    command: { type: 'string', help: 'the command line that made the run' },
  },
  examples: ['servelab moe init --config \'{"ep_size":4,"num_prompts":30}\'', 'servelab moe init --resume data/runs/moe/20261123-051500-ab12'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  let config: unknown;
  try {
    config = JSON.parse(opt.str(p, 'config')!);
  } catch (e) {
    throw new CliError(`--config: not JSON (${(e as Error).message})`, 2);
  }
  const reopen = opt.str(p, 'resume');
  if (reopen !== undefined && opt.str(p, 'dir') !== undefined) throw new CliError('--resume and --dir: give one of them', 2);
  if (reopen !== undefined && !fs.existsSync(path.join(reopen, 'manifest.json'))) {
    throw new CliError(`--resume ${reopen}: not a run folder (no manifest.json); nothing was created`, 2, ['to start a new run, leave --resume out']);
  }
  const dir = reopen ?? opt.str(p, 'dir');
  const resume = Boolean(dir && fs.existsSync(path.join(dir, 'manifest.json')));
  const run = createRun({ experiment: 'moe', dataDir: opt.str(p, 'data'), runId: opt.str(p, 'run-id'), dir, config, command: opt.str(p, 'command'), resume });
  process.stdout.write(`${path.resolve(run.dir)}\n`);
  return 0;
}
