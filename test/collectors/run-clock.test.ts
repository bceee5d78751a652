// One clock per run: a process that joins a run later (a MoE run's next dataset, a shard, a
// resume) writes *_ns on the same time line since the run started, not from 0 again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { run } from '../../collectors/cmd-bench.ts';
import { runClock } from '../../core/clock.ts';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

let srv: SseServer;
let data: string;
beforeAll(async () => {
  srv = await startSseServer({ chunks: 4 });
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-clock-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await srv.close();
  fs.rmSync(data, { recursive: true, force: true });
});

describe('run clock', () => {
  it('a second load into the same run (shard 1, 300 ms later) continues the time line', async () => {
    const args = (shard: number) => ['--base-url', srv.url, '--data', data, '--run-id', 'one', '--shard', String(shard), '--dataset-name', 'random',
      '--random-input-len', '4', '--random-output-len', '4', '--num-prompts', '5', '--request-rate', '100'];
    expect(await run(args(0))).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await run(args(1))).toBe(0);
    const cat = await openCatalog({ dataDir: data, warn: () => {} });
    try {
      const rows = await queryRows(cat.conn, 'select shard, min(scheduled_ns) lo, max(done_ns) hi from requests group by shard order by shard');
      expect(rows).toHaveLength(2);
      const [a, b] = rows as { lo: number; hi: number }[];
      expect(b!.lo).toBeGreaterThan(a!.hi + 250e6); // the 300 ms pause shows on the run's clock
      const m = (await queryRows(cat.conn, 'select started_unix_ms s, finished_unix_ms f from runs'))[0] as { s: number; f: number };
      expect(b!.hi / 1e6).toBeLessThanOrEqual(m.f - m.s + 5); // ends within the run's wall-clock span
    } finally {
      cat.close();
    }
  });

  it('runClock starts at the run\'s age and never before 0', () => {
    expect(runClock(1_000, 1_500).nowNs()).toBeGreaterThanOrEqual(500e6);
    expect(runClock(2_000, 1_500).nowNs()).toBeLessThan(100e6);
    expect(runClock(null).nowNs()).toBeLessThan(100e6);
  });
});
