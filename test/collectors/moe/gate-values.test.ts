// Gate-log values that used to turn into silently wrong CVs are now errors naming file, line and
// field: fractional counts (were rounded), fractional steps, negative layers, and a run whose
// lines disagree on the number of experts (steps of 4 and 8 experts were merged as 8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCv } from '../../../collectors/moe/cv.ts';
import { CliError } from '../../../core/errors.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-gate-values-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A gates folder with one file per entry of `files` (lines as objects). */
function gates(files: object[][]): string {
  const dir = path.join(root, `g${n++}`, 'gates_logs_01');
  fs.mkdirSync(dir, { recursive: true });
  files.forEach((lines, i) => fs.writeFileSync(path.join(dir, `gate_logs_${i}.jsonl`), lines.map((l) => `${JSON.stringify(l)}\n`).join('')));
  return dir;
}

const ok = (step: number, counts = [1, 2, 3, 2]) => ({ step, layer: 0, num_tokens: counts.reduce((a, b) => a + b, 0) / 2, expert_counts: counts });

async function error(dir: string): Promise<string> {
  const err = await computeCv([dir]).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  return (err as CliError).message;
}

describe('gate-log values', () => {
  it('fractional expert counts are an error at their line', async () => {
    const dir = gates([[ok(0), { ...ok(1), expert_counts: [1.5, 2, 3, 2] }]]);
    expect(await error(dir)).toBe(`${path.join(dir, 'gate_logs_0.jsonl')}:2: expert_counts: item 0: expected a whole number ≥ 0, got 1.5`);
  });

  it('step 0.5 and layer -1 are errors', async () => {
    const a = gates([[{ ...ok(0), step: 0.5 }]]);
    expect(await error(a)).toBe(`${path.join(a, 'gate_logs_0.jsonl')}:1: step: expected a whole number ≥ 0, got 0.5`);
    const b = gates([[ok(0), { ...ok(1), layer: -1 }]]);
    expect(await error(b)).toBe(`${path.join(b, 'gate_logs_0.jsonl')}:2: layer: expected a whole number ≥ 0, got -1`);
  });

  it('4 experts in one file and 8 in another: an error naming both places', async () => {
    const dir = gates([[ok(0), ok(1)], [ok(0, [1, 1, 1, 1, 1, 1, 1, 1]), ok(1)]]);
    expect(await error(dir)).toBe(
      `${path.join(dir, 'gate_logs_1.jsonl')}:1: expert_counts: 8 experts, but ${path.join(dir, 'gate_logs_0.jsonl')}:1 has 4: one run's gate logs must come from one model (give each model its own run)`,
    );
  });

  it('whole numbers written as 2.0 are accepted and give the same CV as 2', async () => {
    const a = await computeCv([gates([[ok(0), ok(1)]])]);
    const dir = gates([[ok(0), ok(1)]]);
    fs.writeFileSync(path.join(dir, 'gate_logs_0.jsonl'), fs.readFileSync(path.join(dir, 'gate_logs_0.jsonl'), 'utf8').replaceAll('2,', '2.0,'));
    const b = await computeCv([dir]);
    expect(b.summaries[0]!.per_step_cv).toBeCloseTo(a.summaries[0]!.per_step_cv as number, 12);
  });
});

describe('gzipped gate logs', () => {
  it('compressGateLogs gzips in place; moe cv reads .jsonl.gz as the plain file and names a bad line in it', async () => {
    const { compressGateLogs } = await import('../../../collectors/moe/gatelogs.ts');
    const plain = gates([[ok(0), ok(1), ok(2, [3, 0, 0, 1])], [ok(0), ok(1)]]);
    const want = await computeCv([plain]);
    const dir = gates([[ok(0), ok(1), ok(2, [3, 0, 0, 1])], [ok(0), ok(1)]]);
    const before = fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
    expect(compressGateLogs(dir)).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(['gate_logs_0.jsonl.gz', 'gate_logs_1.jsonl.gz']);
    expect(fs.readdirSync(dir).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0)).toBeLessThan(before);
    const got = await computeCv([dir]);
    expect(got.summaries).toEqual(want.summaries);
    const bad = gates([[ok(0), { ...ok(1), layer: -1 }]]);
    compressGateLogs(bad);
    expect(await error(bad)).toBe(`${path.join(bad, 'gate_logs_0.jsonl.gz')}:2: layer: expected a whole number ≥ 0, got -1`);
  });
});
