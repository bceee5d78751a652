// Real imbalance from hand-made gate logs (test/input/moe-cv, values worked out in its README):
// both CV methods, the folder map, torn and malformed lines, and the run stages over gate_loads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../../analysis/stages.ts';
import { createRun } from '../../../core/run.ts';
import { message } from '../../../core/messages.ts';
import { computeCv } from '../../../collectors/moe/cv.ts';
import { ingestGateDir } from '../../../collectors/moe/ingest.ts';
import { run as cvCmd } from '../../../collectors/moe/cmd-cv.ts';
import { checkGolden, inputDir, roundFixed } from '../../helpers/golden.ts';
import { captureOutput } from '../../helpers/capture.ts';
import { readParquet } from '../../helpers/parquet.ts';

const IN = inputDir('moe-cv');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-cv-'));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const { value: code, stdout: out } = await captureOutput(fn);
  return { code, out };
}

describe('moe cv', () => {
  it('per-step and aggregated CV match the values worked out by hand', async () => {
    const r = await computeCv([path.join(IN, 'gates_logs_01'), path.join(IN, 'gates_logs_02')]);
    const [a, b] = r.summaries;
    expect(a!.grp).toBe('gates_logs_01');
    expect(a!.per_step_cv).toBeCloseTo((1 + Math.sqrt(1.5) + 1) / 6, 9);
    expect(a!.aggregated_cv).toBe(0);
    expect(a!.max_min_ratio).toBe(1);
    expect([a!.total_tokens, a!.steps, a!.warmup_steps, a!.files]).toEqual([32, 3, 1, 2]);
    expect(b!.per_step_cv).toBeCloseTo(Math.sqrt(3) / 2, 9);
    expect(b!.aggregated_cv).toBeCloseTo(Math.sqrt(12) / 4, 9);
    expect(b!.max_min_ratio).toBe(5);
    expect(r.warnings).toEqual([message.tornLastLine(path.join(IN, 'gates_logs_02', 'gate_logs_0.jsonl'), 3)]);
    const golden = checkGolden('moe-cv', 'cv.json', JSON.stringify(roundFixed({ ...r, warnings: r.warnings.length }), null, 2) + '\n');
    expect(golden.ok, golden.message).toBe(true);
  });

  it('prints like the old scripts and writes the directory → CV map', async () => {
    const one = await capture(() => cvCmd([path.join(IN, 'gates_logs_02'), '--method', 'aggregated']));
    expect(one.code).toBe(0);
    expect(one.out).toContain('Aggregated CV: 0.8660');
    expect(one.out).toContain('Max/min ratio: 5.0000');
    expect(one.out).toContain('Total tokens: 16');
    const out = path.join(tmp(), 'map.json');
    const all = await capture(() => cvCmd([IN, out]));
    expect(all.code).toBe(0);
    const map = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(Object.keys(map)).toEqual(['gates_logs_01', 'gates_logs_02']);
    expect(map.gates_logs_02).toBeCloseTo(0.866025, 6);
  });

  it('says what is wrong with an empty or malformed directory', async () => {
    const dir = tmp();
    await expect(computeCv([dir])).rejects.toThrow(`${dir}: no gate_logs_*.jsonl or gate_logs_*.json files here`);
    const f = path.join(dir, 'gate_logs_0.jsonl');
    fs.writeFileSync(f, '{"step":0,"layer":0,"num_tokens":4,"expert_counts":[1,1,1,1]}\n{"step":1,"layer":0,"num_tokens":4,"expert_counts":[1,1,"x",1]}\n');
    await expect(computeCv([dir])).rejects.toThrow(`${f}:2: expert_counts: item 2: expected a whole number ≥ 0, got "x"`);
    fs.writeFileSync(f, '{"step":0,"layer":0,"num_tokens":4,"expert_counts":[1,1,1,1]}\n{"step":1,"num_tokens":4,"expert_counts":[1,1,1,1]}\n');
    await expect(computeCv([dir])).rejects.toThrow(`${f}:2: layer: expected a whole number ≥ 0, got undefined`);
    fs.writeFileSync(f, '');
    await expect(computeCv([dir])).rejects.toThrow('every gate_logs_* file is empty');
  });

  it('ingests into gate_loads and the run stages agree with the cv command', async () => {
    const data = tmp();
    const run = createRun({ experiment: 'moe', runId: 'golden', dataDir: data, config: { ep_size: 2 } });
    run.finish('complete');
    const r1 = await ingestGateDir(run, path.join(IN, 'gates_logs_01'), 'baseline/001_0.5000');
    const r2 = await ingestGateDir(run, path.join(IN, 'gates_logs_02'), 'all2all/001_0.5000');
    expect([r1.lines, r1.records, r2.lines, r2.records]).toEqual([6, 24, 2, 8]);
    const results = await runStages({
      runDir: run.dir,
      stages: ['moe_cv', 'moe_cv_by_layer', 'moe_ep_rank_load', 'moe_expert_heat', 'moe_cv_timeline'],
      log: () => {},
    });
    const byName = Object.fromEntries(await Promise.all(results.map(async (x) => [x.stage, roundFixed(await readParquet(x.output))] as const)));
    const cv = byName.moe_cv as Record<string, unknown>[];
    expect(cv.map((x) => [x.backend, x.dataset])).toEqual([
      ['all2all', '001_0.5000'],
      ['baseline', '001_0.5000'],
    ]);
    expect(cv[1]!.per_step_cv).toBeCloseTo((2 + Math.sqrt(1.5)) / 6, 9);
    expect(cv[0]!.aggregated_cv).toBeCloseTo(0.866025, 6);
    // ep_size 2 from the run config: ranks hold experts {0,1} and {2,3}.
    const ranks = (byName.moe_ep_rank_load as Record<string, unknown>[]).filter((x) => x.grp === 'all2all/001_0.5000');
    expect(ranks.map((x) => x.rank_tokens)).toEqual([12, 4]);
    for (const [name, rows] of Object.entries(byName)) {
      const g = checkGolden('moe-stages', `${name}.json`, JSON.stringify(rows, null, 2) + '\n');
      expect(g.ok, g.message).toBe(true);
    }
  });
});
