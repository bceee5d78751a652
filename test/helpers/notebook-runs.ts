// A run for each built-in notebook, for the notebook tests: the latency sample run, the hand-made
// MoE run of test/input/moe-bench-run, and a scheduling run recorded by `servelab simulate --run`
// into a temp folder (made once per process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRun } from '../../core/run.ts';
import { run as simulate } from '../../simulator/cmd-simulate.ts';
import { TEST_ROOT, inputDir } from './golden.ts';

export const SAMPLE_RUN = path.join(TEST_ROOT, '..', 'data/samples/runs/latency/sample-001');
export const MOE_RUN = inputDir('moe-bench-run');
export const LORA_RUN = inputDir('lora-status');
export const LOADTEST_RUN = inputDir('loadtest-run');

let schedule: Promise<string> | undefined;
export function scheduleRun(): Promise<string> {
  schedule ??= (async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-nb-schedule-'));
    await simulate(['--workload', 'both', '--algorithms', 'FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT', '--run', '--data', data, '--run-id', 'nb'], () => {});
    return path.join(data, 'runs', 'schedule', 'nb');
  })();
  return schedule;
}

let imbalance: string | undefined;
/**
 * A hand-made imbalance run: round-robin and power-of-two, generate and replay, 4 GPUs, 160
 * requests each, one every 50 ms; under round-robin GPU0's prompts and requests grow, the others
 * stay at 100 words and 0.4 s; one request per load is refused with 400.
 */
export function imbalanceRun(): string {
  if (imbalance) return imbalance;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-nb-imbalance-'));
  const run = createRun({ experiment: 'imbalance', dir: path.join(data, 'runs', 'imbalance', 'nb'), config: { policies: ['round-robin', 'power-of-two'] } });
  let shard = 0;
  for (const policy of ['round-robin', 'power-of-two']) {
    for (const mode of ['generate', 'replay']) {
      shard++;
      for (let i = 0; i < 160; i++) {
        const gpu = i % 4;
        const grows = policy === 'round-robin' && gpu === 0;
        const sent = i * 50e6;
        const dur = grows ? 0.5e9 + i * 20e6 : 0.4e9;
        const refused = i === 7;
        run.append('requests', {
          request_id: `r${shard}-${i}`, shard, endpoint: policy, protocol: 'openai-chat', dataset: mode, gpu, phase: i < 8 ? 'warmup' : 'main',
          prompt_words: grows ? Math.min(16 * (i + 1), 4000) : 100, prompt_tokens_server: refused ? null : grows ? Math.min(16 * (i + 1), 4000) + 20 : 120,
          output_tokens: refused ? null : 32, sent_ns: sent, first_token_ns: refused ? null : sent + dur * 0.3, last_token_ns: refused ? null : sent + dur,
          done_ns: refused ? sent + 1e6 : sent + dur, status: refused ? 'http_error' : 'ok', http_status: refused ? 400 : 200,
          extra: { gpu_assigned: gpu, concurrency_source: 'metrics' },
        } as never);
      }
    }
  }
  run.finish('complete');
  return (imbalance = run.dir);
}

/** The run each built-in notebook is checked on. */
export async function runFor(notebook: string): Promise<string> {
  switch (notebook) {
    case 'moe':
      return MOE_RUN;
    case 'schedule':
      return scheduleRun();
    case 'latency':
      return SAMPLE_RUN;
    case 'lora':
      return LORA_RUN;
    case 'imbalance':
      return imbalanceRun();
    case 'loadtest':
      return LOADTEST_RUN;
    default:
      throw new Error(`no test run for reports/${notebook}.md: add one to runFor in test/helpers/notebook-runs.ts`);
  }
}
