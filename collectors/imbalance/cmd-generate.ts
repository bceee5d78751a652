// `servelab imbalance generate`: the old gpu_imbalance_generator.py — a k^n…k^1-word warm-up per
// GPU for M round-robin loops, then prompts of concurrency² words for the GPU the next request
// lands on, every prompt appended to the prompts file as it is sent.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import {
  checkDuration, commonOptions, durationFlag, endpointFlag, expBaseFlag, maxConcurrencyFlag, maxPromptFlag, metricsFlag, numGpusFlag, promptsFileFlag, runAndReport, servelabFlags,
} from './cmd-common.ts';

export const spec: CommandSpec = {
  name: 'imbalance generate',
  summary: 'create GPU load imbalance behind a round-robin balancer (warm-up k^n…k^1 words, then concurrency² words)',
  description:
    'Warm-up: --warmup-loops loops, each sending k^n words for GPU0 down to k^1 for GPU n−1 in round-robin order. Main phase: ' +
    'the next request\'s GPU in round-robin order, its concurrency c from --metrics-endpoint (else this client\'s own in-flight ' +
    'count for that GPU), a prompt of min(c², --max-prompt) words (at least one). Busy GPUs get bigger prompts, so the imbalance ' +
    'feeds itself. Records: each request with the GPU round-robin assigned it (extra.gpu_assigned), the GPU the server reports ' +
    '(x-gpu-id header; else the assigned one) in gpu, prompt words, phase; per-GPU concurrency sampled into scrapes. ' +
    'Tokens generated = words of the prompts sent; tokens received = output tokens of the answers.',
  options: {
    endpoint: endpointFlag,
    'num-gpus': numGpusFlag,
    duration: durationFlag,
    'max-concurrency': maxConcurrencyFlag,
    'max-prompt': maxPromptFlag,
    'warmup-loops': { type: 'integer', short: 'm', help: 'loops before switching to concurrency-based sizing', default: 10, min: 0 },
    'exp-base': expBaseFlag,
    'prompts-file': promptsFileFlag,
    'metrics-endpoint': metricsFlag,
    'concurrency-from': { type: 'string', help: "where c comes from: metrics (the endpoint, when given) or client (this client's own in-flight count; the endpoint is then only sampled into scrapes)", choices: ['metrics', 'client'], default: 'metrics' },
    ...servelabFlags,
  },
  examples: [
    'servelab sim serve --preset imbalance --port 8000 &   # 4 GPUs behind round-robin',
    'servelab imbalance generate -t 60 --metrics-endpoint http://localhost:8000/metrics',
    'servelab imbalance generate --endpoint http://gpu-lb:8000/v1/chat/completions -n 8 -t 3600 -k 3 --prompts-file prompts.txt',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  return runAndReport({
    ...commonOptions(p),
    mode: 'generate',
    numGpus: opt.num(p, 'num-gpus')!,
    durationS: checkDuration(p),
    maxPrompt: opt.num(p, 'max-prompt')!,
    warmupLoops: opt.num(p, 'warmup-loops')!,
    k: opt.num(p, 'exp-base')!,
    concurrencyFrom: opt.str(p, 'concurrency-from') as 'metrics' | 'client',
  });
}
