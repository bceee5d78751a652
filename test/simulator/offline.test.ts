// Tests of `servelab sim run` (simulator/offline.ts): Little's law on the written records,
// byte-identical replays per seed, aggregate vs per-token tracking, MoE gate loads, flag errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../simulator/cmd-sim-run.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-run-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const read = (dir: string, file: string) =>
  fs
    .readFileSync(path.join(dir, 'raw', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function sim(name: string, args: string[]): Promise<string> {
  const out = path.join(tmp, name);
  const log = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await run([...args, '--out', out, '--run-id', 'r1'])).toBe(0);
  } finally {
    log.mockRestore();
  }
  return out;
}

const base = ['--rate', '40', '--num-requests', '400', '--replicas', '2', '--input-len', 'lognormal:300:0.8:2048', '--output-len', 'lognormal:150:0.8:1024', '--seed', '3'];

describe('sim run (offline runner)', () => {
  it("Little's law L = λW holds exactly on the written records", async () => {
    const dir = await sim('little', [...base, '--max-num-seqs', '16']);
    const reqs = read(dir, 'requests.jsonl');
    expect(reqs).toHaveLength(400);
    // Time-average number in system from the event log (arrival +1, done −1), integer ns.
    const ev: [number, number][] = [];
    let sojourn = 0;
    for (const r of reqs) {
      const a = r.sent_ns as number;
      const d = r.done_ns as number;
      expect(d).toBeGreaterThan(a);
      expect(r.first_token_ns as number).toBeGreaterThan(a);
      expect(r.last_token_ns as number).toBeLessThanOrEqual(d);
      ev.push([a, 1], [d, -1]);
      sojourn += d - a;
    }
    ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let n = 0;
    let area = 0;
    let prev = ev[0]![0];
    for (const [t, dn] of ev) {
      area += n * (t - prev);
      n += dn;
      prev = t;
    }
    const T = ev.at(-1)![0] - ev[0]![0];
    const L = area / T;
    const lambda = reqs.length / T;
    const W = sojourn / reqs.length;
    expect(n).toBe(0);
    expect(area).toBe(sojourn); // L·T = λW·T in exact integers
    expect(L).toBeCloseTo(lambda * W, 9);
    // Round-robin over 2 replicas: request i goes to replica i mod 2.
    for (const r of reqs) expect(r.gpu).toBe(Number(String(r.request_id).slice(4)) % 2);
    const steps = read(dir, 'sim_steps.jsonl');
    expect(steps.some((s) => (s.steps as number) > 1)).toBe(true);
    expect(read(dir, 'sim_intervals.jsonl').every((i) => (i.end_ns as number) > (i.start_ns as number))).toBe(true);
  });

  it('the same seed gives byte-identical files; another seed does not', async () => {
    const a = await sim('same-a', [...base, '--chunks']);
    const b = await sim('same-b', [...base, '--chunks']);
    const c = await sim('same-c', [...base.slice(0, -1), '4', '--chunks']);
    for (const f of ['requests.jsonl', 'sim_steps.jsonl', 'sim_intervals.jsonl', 'chunks.jsonl']) {
      // Buffer.equals: a deep equality over megabytes would be slow.
      expect(fs.readFileSync(path.join(b, 'raw', f)).equals(fs.readFileSync(path.join(a, 'raw', f))), f).toBe(true);
    }
    expect(fs.readFileSync(path.join(c, 'raw', 'requests.jsonl')).equals(fs.readFileSync(path.join(a, 'raw', 'requests.jsonl')))).toBe(false);
    // Step by step (no closed-form stretches) writes the same requests and token times.
    const d = await sim('same-d', [...base, '--chunks', '--step-by-step']);
    for (const f of ['requests.jsonl', 'chunks.jsonl']) {
      expect(fs.readFileSync(path.join(d, 'raw', f)).equals(fs.readFileSync(path.join(a, 'raw', f))), f).toBe(true);
    }
    expect(read(d, 'sim_steps.jsonl').every((s) => s.steps === 1)).toBe(true);
    const chunks = read(a, 'chunks.jsonl');
    const outTokens = read(a, 'requests.jsonl').reduce((s, r) => s + (r.output_tokens as number), 0);
    expect(chunks).toHaveLength(outTokens);
  });

  it('aggregate decode tracking (no --chunks) writes the same request records as per-token tracking, preemptions included', async () => {
    const args = ['--rate', '200', '--num-requests', '1500', '--gpu-memory-utilization', '0.3', '--seed', '5'];
    const lazy = await sim('lazy', args);
    const eager = await sim('eager', [...args, '--chunks']);
    const lines = (d: string) => fs.readFileSync(path.join(d, 'raw', 'requests.jsonl'), 'utf8').split('\n').filter(Boolean).sort();
    expect(lines(lazy)).toEqual(lines(eager));
    expect(read(lazy, 'requests.jsonl').some((r) => (r.preemptions as number) > 0)).toBe(true);
  });

  it('writes gate loads for a MoE model: tokens·top_k per step and layer', async () => {
    const dir = await sim('moe', ['--model', 'Qwen3-30B-A3B', '--rate', '5', '--num-requests', '6', '--input-len', '40', '--output-len', '4']);
    const rows = fs.readdirSync(path.join(dir, 'raw', 'gates')).flatMap((f) => read(dir, path.join('gates', f)));
    expect(rows.length).toBeGreaterThan(0);
    const perStepLayer = new Map<string, { sum: number; stepTokens: number }>();
    for (const r of rows) {
      const k = `${r.source}/${r.step}/${r.layer}`;
      const e = perStepLayer.get(k) ?? { sum: 0, stepTokens: r.step_tokens as number };
      e.sum += r.tokens as number;
      perStepLayer.set(k, e);
    }
    for (const e of perStepLayer.values()) expect(e.sum).toBe(e.stepTokens * 8);
    expect(new Set(rows.map((r) => r.layer)).size).toBe(48);
  });

  it('rejects bad flags with the value named', async () => {
    await expect(run(['--rate', '-3', '--num-requests', '5'])).rejects.toThrow(/--rate: -3 is below the minimum|--rate: -3 must be a positive/);
    await expect(run(['--rate', '3'])).rejects.toThrow(/--num-requests N or --duration/);
    await expect(run(['--rate', '3', '--num-requests', '5', '--router', 'rr'])).rejects.toThrow(/--router: 'rr' is not one of/);
    await expect(run(['--rate', '3', '--num-requests', '5', '--input-len', 'pareto:x:1'])).rejects.toThrow(/--input-len: 'pareto:x:1': scale 'x' is not a number/);
  });
});
