// Refuses to write a simulated run into a folder that already holds one, as a usage error
// that names the flag to change (createRun would otherwise fail with a bare Error).
import fs from 'node:fs';
import path from 'node:path';
import { usageError } from '../core/errors.ts';
import { runsRoot, validateRunName } from '../core/run.ts';

export interface RunTarget {
  /** --out: the run folder itself. */
  out?: string;
  /** --run-id with --data and the experiment name. */
  runId?: string;
  dataDir?: string;
  experiment: string;
}

/** Throws a usage error (exit 2) when the run folder the flags name already has a manifest. */
export function refuseExistingRun(t: RunTarget): void {
  if (!t.out) {
    validateRunName('experiment', t.experiment);
    if (t.runId !== undefined) validateRunName('run id', t.runId);
  }
  const dir = t.out ? path.resolve(t.out) : t.runId ? path.join(runsRoot(t.dataDir), t.experiment, t.runId) : undefined;
  if (!dir || !fs.existsSync(path.join(dir, 'manifest.json'))) return;
  const flag = t.out ? `--out ${t.out}` : `--run-id ${t.runId}`;
  throw usageError(`${flag}: ${dir} already holds a run; pick a new ${t.out ? '--out folder' : '--run-id'} (or leave it out for a fresh one), or delete the old run`);
}
