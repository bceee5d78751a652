// The flags the three imbalance loads share (named and defaulted as the old scripts), and the
// one way each command runs its load: signals, progress line, summary table, exit code.
import type { OptionSpec, Parsed } from '../../core/args.ts';
import { opt } from '../../core/args.ts';
import { ExitCode, usageError } from '../../core/errors.ts';
import { message } from '../../core/messages.ts';
import { startProgress } from '../progress.ts';
import type { LoadEngine } from '../engine.ts';
import { type ImbalanceLoadOptions, runImbalanceLoad, summaryTable } from './load.ts';

export const DEFAULT_ENDPOINT = 'http://localhost:8000/v1/chat/completions';

export const endpointFlag: OptionSpec = { type: 'string', help: 'LLM API endpoint (chat completions, completions, /completion or /generate)', default: DEFAULT_ENDPOINT, metavar: 'URL' };
export const numGpusFlag: OptionSpec = { type: 'integer', short: 'n', help: 'number of GPUs behind the load balancer', default: 4, min: 1 };
export const durationFlag: OptionSpec = { type: 'number', short: 't', help: 'test duration in seconds', default: 3600, metavar: 'S' };
export const maxConcurrencyFlag: OptionSpec = { type: 'integer', help: 'maximum concurrent requests', default: 512, min: 1 };
export const maxPromptFlag: OptionSpec = { type: 'integer', help: 'maximum prompt length in words', default: 65536, min: 1 };
export const expBaseFlag: OptionSpec = { type: 'integer', short: 'k', help: 'base for exponential prompt sizing in the warm-up (minimum: 2)', default: 2, min: 2 };
export const promptsFileFlag: OptionSpec = { type: 'string', help: 'file the prompts are written to as they are sent (one per line, newlines escaped; overwritten at start)', default: 'prompts.txt', metavar: 'FILE' };
export const metricsFlag: OptionSpec = { type: 'string', help: 'per-GPU concurrency API: GET URL?gpu_id=N → {"concurrency": n} (default: this client\'s own in-flight count)', metavar: 'URL' };

/** servelab's own flags, after the old ones. */
export const servelabFlags: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model name (default: the first of /v1/models)' },
  'max-tokens': { type: 'integer', help: 'max_tokens per request (default: none, the server decides, as the old scripts)', min: 1 },
  label: { type: 'string', help: 'the balancer\'s name in the records (endpoint column), e.g. the routing policy', default: 'default' },
  run: { type: 'string', help: 'write into this experiment run folder (created when missing) instead of a new run', metavar: 'DIR' },
  shard: { type: 'integer', help: 'with --run: this load\'s shard number (each load of one run its own)', default: 0, min: 0 },
  data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  'scrape-interval': { type: 'number', help: 'seconds between per-GPU concurrency samples', default: 1, metavar: 'S' },
  timeout: { type: 'number', help: 'per-request timeout in seconds', default: 600, metavar: 'S' },
  grace: { type: 'number', help: 'on Ctrl-C/SIGTERM, seconds to wait for requests in flight before cancelling them', default: 10, metavar: 'S' },
};

export function checkDuration(p: Parsed): number | undefined {
  const d = opt.num(p, 'duration');
  if (d !== undefined && !(d > 0)) throw usageError(`--duration: ${d} must be a positive number of seconds`);
  return d;
}

/** The settings every load takes from its flags. */
export function commonOptions(p: Parsed): Omit<ImbalanceLoadOptions, 'mode' | 'numGpus' | 'durationS' | 'maxPrompt' | 'warmupLoops' | 'k'> {
  const interval = opt.num(p, 'scrape-interval')!;
  if (!(interval > 0)) throw usageError(`--scrape-interval: ${interval} must be a positive number of seconds`);
  return {
    endpoint: opt.str(p, 'endpoint')!,
    maxConcurrency: opt.num(p, 'max-concurrency')!,
    promptsFile: opt.str(p, 'prompts-file')!,
    metricsEndpoint: opt.str(p, 'metrics-endpoint') ?? null,
    model: opt.str(p, 'model') ?? null,
    maxTokens: opt.num(p, 'max-tokens') ?? null,
    label: opt.str(p, 'label')!,
    runDir: opt.str(p, 'run'),
    shard: opt.num(p, 'shard'),
    dataDir: opt.str(p, 'data'),
    scrapeIntervalMs: interval * 1000,
    timeoutMs: opt.num(p, 'timeout')! * 1000,
    graceMs: opt.num(p, 'grace')! * 1000,
    config: { ...p.opts },
  };
}

/** Runs the load with Ctrl-C/SIGTERM handling and a progress line; prints the summary. */
export async function runAndReport(o: ImbalanceLoadOptions, stopIsNormal = false): Promise<number> {
  let engine: LoadEngine | undefined;
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`\nstopping: no new requests; waiting up to ${(o.graceMs ?? 0) / 1000} s for those in flight (again cancels them)\n`);
      engine?.stop();
    } else engine?.cancelNow();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = startProgress({ activeUsers: () => engine?.activeRequests ?? 0, durationS: o.durationS });
  let stopped = false;
  const prog = { record: progress.record, stop: () => void (stopped || ((stopped = true), progress.stop())) };
  try {
    const r = await runImbalanceLoad(o, { onEngine: (e) => (engine = e), onRecord: (rec) => prog.record(rec) });
    prog.stop();
    process.stderr.write(`run ${r.run.dir}\n`);
    process.stdout.write(summaryTable(r.summary) + '\n');
    if (r.metricsFailures > 0) process.stdout.write(`Metrics endpoint failures: ${r.metricsFailures} (those prompts were sized by this client's own in-flight count)\n`);
    if (r.summary.http_400 > 0) process.stdout.write(`Refused by the server (HTTP 400, e.g. a prompt over the context): ${r.summary.http_400}\n`);
    process.stdout.write(`prompts file: ${o.mode === 'replay' ? `${o.promptsFile} (read)` : o.promptsFile}\n`);
    if (r.outcome.stopped) process.stderr.write(`${message.runIncomplete(r.run.id)}\n`);
    if (r.outcome.sent > 0 && r.summary.prompts_received === 0) {
      process.stderr.write(`servelab: no prompt was answered (${r.summary.prompts_failed} failed); see ${r.run.rawFile('requests')}\n`);
      return ExitCode.failure;
    }
    return r.outcome.stopped && !stopIsNormal ? ExitCode.failure : ExitCode.ok;
  } finally {
    prog.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
