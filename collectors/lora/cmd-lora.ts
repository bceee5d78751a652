// `servelab lora <subcommand>`: the LoRA HBM-budget experiment's steps, each usable alone —
// serve (N adapters, M resident), smoke, probe (arrival rates), sweep (TTFT over M).
import { pickSubcommand, subcommandLines } from '../../core/subcommands.ts';

interface Sub {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

export const subcommands: Record<string, Sub> = {
  serve: { summary: 'a single-engine server with N LoRA adapters, M resident in HBM (sim, vLLM or your /generate server)', load: () => import('./cmd-serve.ts') },
  smoke: { summary: 'sanity test of a running server: health, generate in and out of HBM, swap stats, reset', load: () => import('./cmd-smoke.ts') },
  probe: { summary: 'arrival-rate probe: each rate classified OK / UNSTABLE / SLOW / TOO HIGH, the highest OK recommended', load: () => import('./cmd-probe.ts') },
  rate: { summary: 'print the highest probed rate that is OK at every probed HBM budget (the sweep\'s rate)', load: () => import('./cmd-rate.ts') },
  sweep: { summary: 'TTFT/latency over the HBM budget M (server restarted per value), appended to a CSV', load: () => import('./cmd-sweep.ts') },
  init: { summary: 'create the experiment run (or reopen one) and print its folder', load: () => import('./cmd-init.ts') },
  finish: { summary: 'record the final status of an experiment run', load: () => import('./cmd-finish.ts') },
};

export function help(): string {
  return [
    'usage: servelab lora <subcommand> [options]     (servelab lora <subcommand> --help)',
    '',
    'The LoRA HBM-budget experiment (npx zx pipelines/lora.mjs runs all of it).',
    '',
    'Subcommands:',
    ...subcommandLines(subcommands),
    '',
    'Examples:',
    '  servelab lora serve --total-loras 128 --gpu-loras 2 --port 8000',
    '  servelab lora smoke --port 8000 --total-loras 128 --gpu-loras 2',
    '  servelab lora probe --total-loras 128 --prompt-regime short --arrival-rates "0.5,1,2,4,8" -d 60 -o probe_short_gpu2.jsonl',
    '  servelab lora sweep --total-loras 128 --gpu-loras 128,64,32,16,8,4,2 --arrival-rate 2.0 -n 200 -o ttft_short_total128.csv --show-swap-stats',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const picked = pickSubcommand('lora', subcommands, argv, { helpWord: false });
  if (picked.kind === 'help') {
    process.stdout.write(help() + '\n');
    return picked.code;
  }
  return (await picked.entry.load()).run(picked.rest);
}
