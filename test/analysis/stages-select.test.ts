// Test of which analysis stages `servelab stages` builds by default for a run: the shared stages,
// plus an experiment's own stages only for that experiment's runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stagesForRuns } from '../../analysis/cmd-stages.ts';

function runDir(experiment: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `servelab-${experiment}-`));
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ run: 'r', experiment }));
  return dir;
}

describe('default stages of a run', () => {
  const known = ['latency_summary', 'moe_cv', 'schedule_gantt', 'latency_timeline'];
  it('a latency run gets only the shared stages; an experiment adds its own', () => {
    expect(stagesForRuns([runDir('latency')], known)).toEqual(['latency_summary', 'latency_timeline']);
    expect(stagesForRuns([runDir('moe')], known)).toEqual(['latency_summary', 'moe_cv', 'latency_timeline']);
    expect(stagesForRuns([runDir('schedule'), runDir('moe')], known)).toEqual(known);
  });
});
