// Golden test of the schedule_* stages on hand-made records (test/input/schedule/): FIFO and
// WSRPT on one TP group with millisecond timestamps, checked by eye in test/output/schedule/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { checkGolden, inputDir, roundFloats } from '../helpers/golden.ts';
import { readParquet } from '../helpers/parquet.ts';

describe('schedule stages', () => {
  it('match the hand-checked snapshots', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sched-'));
    const stages = ['schedule_comparison', 'schedule_queue', 'schedule_gantt'];
    const results = await runStages({ runDir: inputDir('schedule'), outDir: out, stages, log: () => {} });
    const rows: Record<string, Record<string, unknown>[]> = {};
    for (const r of results) {
      rows[r.stage] = await readParquet(r.output);
      const golden = checkGolden('schedule', `${r.stage}.json`, JSON.stringify(roundFloats(rows[r.stage]), null, 2) + '\n');
      expect(golden.ok, golden.message).toBe(true);
    }
    // FIFO waits: a1 0, a2 0.1 s, a3 0.11 s (a4 never started): Σw·wait = 10·0.1 + 10·0.11 = 2.1.
    const fifo = rows.schedule_comparison!.find((r) => r.algorithm === 'FIFO' && r.weight_class === 'all')!;
    expect([fifo.tasks, fifo.completed, fifo.completion_rate]).toEqual([4, 3, 0.75]);
    expect(fifo.wait_s_mean).toBeCloseTo(0.07, 12);
    expect(fifo.wait_s_p90).toBeCloseTo(0.108, 12); // linear interpolation between 0.1 and 0.11
    expect(fifo.weighted_wait_s).toBeCloseTo(2.1, 12);
    expect(fifo.makespan_s).toBeCloseTo(0.14, 12);
    const heavy = rows.schedule_comparison!.find((r) => r.algorithm === 'WSRPT' && r.weight_class === 'w=10')!;
    expect(heavy.weighted_wait_s).toBeCloseTo(0.1, 12); // b2 waits 10 ms at weight 10
    // FIFO queue: 3 waiting after a4 arrives at 20 ms; a2 starts at 100 ms → 2; a3 at 120 ms → 1 (a4 stays).
    const q = rows.schedule_queue!.filter((r) => r.algorithm === 'FIFO').map((r) => [r.t_s, r.waiting, r.running]);
    expect(q).toEqual([[0, 1, 1], [0.01, 2, 1], [0.02, 3, 1], [0.1, 2, 1], [0.12, 1, 1], [0.14, 1, 0]]);
    expect(rows.schedule_gantt!.filter((r) => r.algorithm === 'FIFO').map((r) => r.task_id)).toEqual(['a1', 'a2', 'a3']);
  });
});
