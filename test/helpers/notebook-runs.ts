// A run for each built-in notebook, for the notebook tests: the latency sample run, the hand-made
// MoE run of test/input/moe-bench-run, and a scheduling run recorded by `servelab simulate --run`
// into a temp folder (made once per process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run as simulate } from '../../simulator/cmd-simulate.ts';
import { TEST_ROOT, inputDir } from './golden.ts';

export const SAMPLE_RUN = path.join(TEST_ROOT, '..', 'data/samples/runs/latency/sample-001');
export const MOE_RUN = inputDir('moe-bench-run');
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

/** The run each built-in notebook is checked on. */
export async function runFor(notebook: string): Promise<string> {
  switch (notebook) {
    case 'moe':
      return MOE_RUN;
    case 'schedule':
      return scheduleRun();
    case 'latency':
      return SAMPLE_RUN;
    case 'loadtest':
      return LOADTEST_RUN;
    default:
      throw new Error(`no test run for reports/${notebook}.md: add one to runFor in test/helpers/notebook-runs.ts`);
  }
}
