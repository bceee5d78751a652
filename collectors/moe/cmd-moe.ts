// `servelab moe <subcommand>`: the MoE load-imbalance experiment's steps, each usable alone —
// datasets (generate + score), cv (real imbalance from gate logs), ingest, bench.
import { pickSubcommand, subcommandLines } from '../../core/subcommands.ts';

interface Sub {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const subcommands: Record<string, Sub> = {
  datasets: { summary: 'make 50 datasets with different imbalance strategies, scored by the ImbalancePredictor', load: () => import('./cmd-datasets.ts') },
  cv: { summary: 'real expert-load imbalance (CV) of gate-log directories, per-step or aggregated', load: () => import('./cmd-cv.ts') },
  ingest: { summary: 'read gate-log directories into a run\'s gate_loads table', load: () => import('./cmd-ingest.ts') },
  bench: { summary: 'benchmark datasets against a server, into a run (tags dataset, backend, score; gate logs)', load: () => import('./cmd-bench-dataset.ts') },
  report: { summary: "build the moe_* stages of a run and render its report.html", load: () => import('./cmd-report.ts') },
  init: { summary: 'create the experiment run (or reopen one to resume) and print its folder', load: () => import('./cmd-init.ts') },
  finish: { summary: 'record the final status of an experiment run', load: () => import('./cmd-finish.ts') },
  routed: { summary: "vLLM's routed_experts in saved responses → a gate-log file (client-side expert load)", load: () => import('./cmd-routed.ts') },
  score: { summary: 'the ImbalancePredictor score and components of a dataset file (JSON)', load: () => import('./cmd-score.ts') },
};

export function help(): string {
  return [
    'usage: servelab moe <subcommand> [options]     (servelab moe <subcommand> --help)',
    '',
    'The MoE load-imbalance experiment (pipelines/moe.mjs runs all of it).',
    '',
    'Subcommands:',
    ...subcommandLines(subcommands),
    '',
    'Examples:',
    '  servelab moe datasets --out datasets',
    '  servelab moe cv baseline_gates_logs/gates_logs_01 --method aggregated',
    '  servelab moe cv baseline_gates_logs baseline_real_imbalance.json',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const picked = pickSubcommand('moe', subcommands, argv, { helpWord: false });
  if (picked.kind === 'help') {
    process.stdout.write(help() + '\n');
    return picked.code;
  }
  return (await picked.entry.load()).run(picked.rest);
}
