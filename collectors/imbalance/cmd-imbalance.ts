// `servelab imbalance <subcommand>`: the round-robin GPU-imbalance experiment's steps, each usable
// alone — the three old scripts (generate, replay, warmup), a balancing front for real GPUs, and
// the run bookkeeping the pipeline uses.
import { pickSubcommand, subcommandLines } from '../../core/subcommands.ts';

interface Sub {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const subcommands: Record<string, Sub> = {
  generate: { summary: 'warm-up k^n…k^1 words per GPU, then concurrency² words: imbalance that feeds itself', load: () => import('./cmd-generate.ts') },
  replay: { summary: 'replay a prompts file (--loop to cycle it)', load: () => import('./cmd-replay.ts') },
  warmup: { summary: 'only the k^n…k^1 pattern, for the whole duration', load: () => import('./cmd-warmup.ts') },
  balance: { summary: 'a reverse proxy in front of N servers with a routing policy, serving /metrics?gpu_id=N', load: () => import('./cmd-balance.ts') },
  init: { summary: 'create the experiment run (or reopen one) and print its folder', load: () => import('./cmd-init.ts') },
  finish: { summary: 'record the final status of an experiment run', load: () => import('./cmd-finish.ts') },
};

export function help(): string {
  return [
    'usage: servelab imbalance <subcommand> [options]     (servelab imbalance <subcommand> --help)',
    '',
    'The round-robin GPU-imbalance experiment (npx zx pipelines/imbalance.mjs runs all of it).',
    '',
    'Subcommands:',
    ...subcommandLines(subcommands),
    '',
    'Examples:',
    '  servelab imbalance generate -t 60 --metrics-endpoint http://localhost:8000/metrics',
    '  servelab imbalance replay --prompts-file prompts.txt --loop -t 300',
    '  servelab imbalance warmup -k 3 -n 4 -t 60',
    '  servelab imbalance balance --backends http://gpu0:8000,http://gpu1:8000 --routing power-of-two --port 8000',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const picked = pickSubcommand('imbalance', subcommands, argv, { helpWord: false });
  if (picked.kind === 'help') {
    process.stdout.write(help() + '\n');
    return picked.code;
  }
  return (await picked.entry.load()).run(picked.rest);
}
