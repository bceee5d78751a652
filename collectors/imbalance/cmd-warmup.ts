// `servelab imbalance warmup`: the old gpu_imbalance_warmup.py — the k^n…k^1-word pattern per GPU
// in round-robin order for the whole duration, without the concurrency² phase.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import {
  checkDuration, commonOptions, durationFlag, endpointFlag, expBaseFlag, maxConcurrencyFlag, maxPromptFlag, metricsFlag, numGpusFlag, promptsFileFlag, runAndReport, servelabFlags,
} from './cmd-common.ts';

export const spec: CommandSpec = {
  name: 'imbalance warmup',
  summary: 'send only the exponential k^n…k^1-word pattern per GPU for the whole duration',
  description: 'With -k 3 -n 4 the sizes repeat 81, 27, 9, 3 words (GPU0 … GPU3). Every prompt is appended to the prompts file as it is sent.',
  options: {
    endpoint: endpointFlag,
    'num-gpus': numGpusFlag,
    duration: durationFlag,
    'max-concurrency': maxConcurrencyFlag,
    'max-prompt': maxPromptFlag,
    'exp-base': expBaseFlag,
    'prompts-file': promptsFileFlag,
    'metrics-endpoint': { ...metricsFlag, help: 'per-GPU concurrency API to sample into scrapes: GET URL?gpu_id=N → {"concurrency": n}' },
    ...servelabFlags,
  },
  examples: ['servelab imbalance warmup -n 4 -t 3600 --max-concurrency 512 -k 3 --prompts-file prompts.txt'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  return runAndReport({
    ...commonOptions(p),
    mode: 'warmup',
    numGpus: opt.num(p, 'num-gpus')!,
    durationS: checkDuration(p),
    maxPrompt: opt.num(p, 'max-prompt')!,
    warmupLoops: 0,
    k: opt.num(p, 'exp-base')!,
  });
}
