// `servelab simulate`: the seed's table and improvement lines, the results JSON shape, run
// records in the contract (byte-identical for identical inputs), and bad-input messages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../simulator/cmd-simulate.ts';
import { CliError } from '../../core/errors.ts';
import { tables } from '../../core/schema.ts';
import { normalizeRecord } from '../../core/validate.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sched-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function simulate(argv: string[]): Promise<string> {
  const lines: string[] = [];
  expect(await run(argv, (s) => lines.push(s))).toBe(0);
  return lines.join('\n');
}

async function failure(argv: string[]): Promise<CliError> {
  try {
    await run(argv, () => {});
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error(`simulate ${argv.join(' ')} did not fail`);
}

describe('servelab simulate', () => {
  it('prints the seed table and improvement lines, and writes the seed JSON shape', async () => {
    const out = path.join(tmp, 'results.json');
    const text = await simulate(['--workload', 'discriminating', '--cluster', 'h100_16gpu', '--dt', '0.01', '--max-time', '5.0', '--algorithms', 'FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT', '--output', out]);
    expect(text).toContain('Algorithm            Weighted Wait   Avg Wait        Completed');
    expect(text).toMatch(/WeightedFIFO vs FIFO \(weighted waiting time\):\n {2}FIFO: [\d.]+\n {2}WeightedFIFO: [\d.]+\n {2}Improvement: [\d.]+%/);
    expect(text).toContain('SRPT vs FIFO (average waiting time):');
    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { results: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(['results']);
    expect(json.results.map((r) => r.algorithm)).toEqual(['FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT']);
    for (const r of json.results) {
      expect(Object.keys(r)).toEqual(['workload', 'algorithm', 'weighted_waiting_time', 'average_waiting_time', 'makespan', 'completed', 'total']);
      expect(r.total).toBe(20);
    }
    const [fifo, wfifo] = json.results;
    expect(Number(wfifo!.weighted_waiting_time)).toBeLessThan(Number(fifo!.weighted_waiting_time));
  });

  it('--run writes one requests line per task and the GPU-group intervals, valid under the contract', async () => {
    const text = await simulate(['--workload', 'both', '--algorithms', 'FIFO', 'WSRPT', '--mode', 'both', '--run', '--data', path.join(tmp, 'a'), '--run-id', 'r1']);
    const dir = /^run: (.+)$/m.exec(text)![1]!;
    const read = (t: string) => fs.readFileSync(path.join(dir, 'raw', `${t}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = read('requests');
    expect(requests).toHaveLength((20 + 84) * 2 * 2);
    expect(new Set(requests.map((r) => r.request_id)).size).toBe(requests.length);
    requests.forEach((r, i) => normalizeRecord(tables.requests, r, { file: 'requests.jsonl', line: i + 1 }));
    const intervals = read('sim_intervals');
    intervals.forEach((r, i) => normalizeRecord(tables.sim_intervals, r, { file: 'sim_intervals.jsonl', line: i + 1 }));
    expect(intervals).toHaveLength(requests.length);
    const r0 = requests.find((r) => r.request_id === 'discriminating/FIFO/discrete/T_low_1')!;
    expect(r0).toMatchObject({ protocol: 'sim', scheduled_ns: 0, sent_ns: 0, first_token_ns: 0, gpu: 0, weight: 1, status: 'ok' });
    expect(r0.extra).toMatchObject({ algorithm: 'FIFO', workload: 'discriminating', mode: 'discrete', tokens: 2000, tp: 2 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))).toMatchObject({ experiment: 'schedule', status: 'complete' });
  });

  it('the same inputs give byte-identical records and results', async () => {
    const once = async (name: string) => {
      const out = path.join(tmp, `${name}.json`);
      const text = await simulate(['--workload', 'staggered', '--mode', 'both', '--preempt', '--run', '--data', path.join(tmp, name), '--run-id', 'same', '--output', out]);
      const dir = /^run: (.+)$/m.exec(text)![1]!;
      return ['requests', 'sim_intervals'].map((t) => fs.readFileSync(path.join(dir, 'raw', `${t}.jsonl`))).concat(fs.readFileSync(out));
    };
    const [a, b] = [await once('x'), await once('y')];
    a.forEach((buf, i) => expect(buf.equals(b[i]!)).toBe(true));
  });

  it('bad input names the value and the valid choices (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--cluster', 'h100_12gpu'], /h100_8gpu.*h100_16gpu.*h100_32gpu.*h100_64gpu/],
      [['--algorithms', 'FIFO', 'LIFO'], /'LIFO' is not one of 'FIFO', 'WeightedFIFO', 'SRPT', 'WSRPT'/],
      [['--workload', 'bursty'], /discriminating.*staggered.*both/],
      [['--dt', '-0.01'], /--dt: must be a positive number/],
      [['--dt', '0'], /--dt: must be a positive number/],
      [['--max-time', '0'], /--max-time/],
      [['--mode', 'exact'], /discrete.*event.*both/],
    ];
    for (const [argv, re] of cases) {
      const err = await failure(argv);
      expect(err.exitCode, argv.join(' ')).toBe(2);
      expect(err.message, argv.join(' ')).toMatch(re);
    }
  });
});

describe('simulate task durations', () => {
  it('prints the durations it used; --task-seconds sets them and the schedule follows (FIFO makespan 1 + 2 × 0.25 s)', async () => {
    const { run: simulate } = await import('../../simulator/cmd-simulate.ts');
    const lines: string[] = [];
    expect(await simulate(['--workload', 'discriminating', '--mode', 'event', '--algorithms', 'FIFO', '--task-seconds', 'low=1,high=0.25'], (s) => lines.push(s))).toBe(0);
    expect(lines).toContain('  - task durations: low 1.0000 s (--task-seconds); high 0.2500 s (--task-seconds)');
    // 8 TP=2 groups: the 8 low tasks fill them for 1 s, then 12 high ones in two rounds of 0.25 s
    const fifo = lines.find((l) => l.startsWith('FIFO '))!;
    expect(Number(fifo.trim().split(/\s+/).at(-1))).toBeCloseTo(1.5, 9);
    const plain: string[] = [];
    await simulate(['--workload', 'discriminating', '--algorithms', 'FIFO'], (s) => plain.push(s));
    expect(plain.find((l) => l.includes('task durations'))).toMatch(/low 0\.\d{4} s \(cost model: Qwen3 prefill of 2000 tokens on H100, TP=2\); high 0\.\d{4} s \(cost model: Qwen3 prefill of 500 tokens/);
  });

  it('--task-seconds with an unknown class or a bad number is a usage error', async () => {
    const { run: simulate } = await import('../../simulator/cmd-simulate.ts');
    await expect(simulate(['--task-seconds', 'mid=1'], () => {})).rejects.toThrow("--task-seconds: 'mid' is not a task class: low or high");
    await expect(simulate(['--task-seconds', 'low=0'], () => {})).rejects.toThrow('--task-seconds: low=0: seconds must be a number above 0');
  });
});
