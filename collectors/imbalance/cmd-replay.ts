// `servelab imbalance replay`: the old gpu_imbalance_replay.py — the prompts of a prompts file
// in order, at most --max-concurrency in flight; --loop cycles them until --duration or Ctrl-C.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { checkDuration, commonOptions, endpointFlag, maxConcurrencyFlag, metricsFlag, numGpusFlag, runAndReport, servelabFlags } from './cmd-common.ts';
import { readPrompts } from './prompts-file.ts';

export const spec: CommandSpec = {
  name: 'imbalance replay',
  summary: 'replay a prompts file (written by generate or warmup), optionally in a loop',
  description:
    'Each line is one prompt (\\n, \\r and \\\\ unescaped). Requests are tagged with the GPU round-robin assigns them ' +
    '(-n GPUs) and the GPU the server reports; the same prompts under a different balancer show what the balancer changes.',
  options: {
    endpoint: endpointFlag,
    'max-concurrency': maxConcurrencyFlag,
    'prompts-file': { type: 'string', help: 'input file with prompts to replay', default: 'prompts.txt', metavar: 'FILE' },
    loop: { type: 'boolean', help: 'continuously loop through the prompts (until --duration or Ctrl-C)' },
    duration: { type: 'number', short: 't', help: 'stop after this many seconds (default: when the prompts run out; with --loop, Ctrl-C)', metavar: 'S' },
    'num-gpus': numGpusFlag,
    'metrics-endpoint': { ...metricsFlag, help: 'per-GPU concurrency API to sample into scrapes: GET URL?gpu_id=N → {"concurrency": n}' },
    ...servelabFlags,
  },
  examples: [
    'servelab imbalance replay --prompts-file prompts.txt',
    'servelab imbalance replay --endpoint http://localhost:8000/v1/chat/completions --max-concurrency 512 --prompts-file prompts.txt --loop -t 600',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const durationS = checkDuration(p);
  const prompts = readPrompts(opt.str(p, 'prompts-file')!);
  const loop = opt.bool(p, 'loop');
  return runAndReport(
    { ...commonOptions(p), mode: 'replay', prompts, loop, numGpus: opt.num(p, 'num-gpus')!, durationS, maxPrompt: Infinity, warmupLoops: 0, k: 2 },
    loop && durationS === undefined,
  );
}
