// `servelab sweep` against the simulated server on port 0: a rate list that stops where the server
// saturates, the automatic sweep (synchronous, throughput, rates between) and the --sla search,
// each point a phase of one run with its status from sweep_status; and bad input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as sweep } from '../../../collectors/sweep/cmd-sweep.ts';
import { type SimServer, simConfig, startSimServer } from '../../../simulator/server/server.ts';
import { captureOutput } from '../../helpers/capture.ts';

let fast: SimServer;
let slow: SimServer;
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sweep-'));

beforeAll(async () => {
  fast = await startSimServer(simConfig({ port: 0, seed: 1 }));
  // one sequence at a time: about 4 requests of 32 tokens per second
  slow = await startSimServer(simConfig({ port: 0, seed: 1, maxNumSeqs: 1 }));
}, 30_000);
afterAll(async () => {
  await Promise.all([fast?.close(), slow?.close()]);
  fs.rmSync(data, { recursive: true, force: true });
});

const base = ['--random-input-len', '64', '--random-output-len', '32', '--data', data];
const points = (stdout: string) =>
  stdout.split('\n').filter((l) => /^\s+\d+\s+(rate|synchronous|throughput)\s/.test(l)).map((l) => l.trim().split(/\s+/));

describe('servelab sweep', () => {
  it('a rate list stops at the first saturated point and says which rates it skipped', async () => {
    const r = await captureOutput(() => sweep(['--base-url', slow.url, '--rates', '1,20,80', '--duration', '1.5', ...base]));
    expect(r.value).toBe(0);
    const rows = points(r.stdout);
    expect(rows.map((x) => [x[1], x[8]])).toEqual([['rate', 'false'], ['rate', 'true']]);
    expect(r.stderr).toMatch(/stopping: the server saturated at 20 req\/s \(skipped: 80\)/);
  }, 60_000);

  it('automatic: synchronous, throughput, then rates spaced between them', async () => {
    const r = await captureOutput(() => sweep(['--base-url', fast.url, '--duration', '1', '--points', '2', '--max-concurrency', '16', ...base]));
    expect(r.value).toBe(0);
    const rows = points(r.stdout);
    expect(rows.map((x) => x[1])).toEqual(['synchronous', 'throughput', 'rate', 'rate']);
    const [sync, thr, a, b] = rows.map((x) => Number(x[2]));
    expect(thr!).toBeGreaterThan(sync!);
    expect(a!).toBeGreaterThan(sync!);
    expect(b!).toBeGreaterThan(a!);
    // statuses depend on the host (2 shared cores): any point may be UNSTABLE
    expect(r.stdout).toMatch(/highest OK rate: [\d.]+ req\/s|no constant-rate point is OK/);
  }, 60_000);

  it('--sla: a bisection between synchronous and throughput, answered from sweep_status', async () => {
    const r = await captureOutput(() => sweep(['--base-url', fast.url, '--duration', '1', '--sla', 'error_rate<0.01', '--sla', 'p99_ttft_ms<100000', '--search-steps', '2', '--max-concurrency', '16', ...base]));
    expect(r.value).toBe(0);
    expect(points(r.stdout)).toHaveLength(4);
    expect(r.stdout).toMatch(/highest rate meeting error_rate<0\.01 and p99_ttft_ms<100000: [\d.]+ req\/s/);
  }, 60_000);

  it('bad input: rates, SLOs and modes', async () => {
    const err = async (argv: string[]) => {
      try {
        await captureOutput(() => sweep([...argv, '--data', data]));
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(await err(['--rates', ''])).toMatch(/--rates: empty rate list/);
    expect(await err(['--rates', '1,-1'])).toMatch(/--rates: '-1' is not a rate > 0/);
    expect(await err(['--sla', 'p99_tfft_ms<5'])).toMatch(/--sla 'p99_tfft_ms<5': p99_tfft_ms is not an SLO key/);
    expect(await err(['--sla', 'p99_ttft_ms=5'])).toMatch(/expected KEY<VALUE/);
    expect(await err(['--rates', '1', '--sla', 'p99_ttft_ms<5'])).toMatch(/--rates and --sla: give one/);
  });
});
