// Regression tests for the exit codes and messages of bad command lines found in QA: usage
// errors (2) naming the flag, refused before any run folder is created or an existing one touched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../core/errors.ts';
import { run as sim } from '../../simulator/cmd-sim.ts';
import { run as simulate } from '../../simulator/cmd-simulate.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<CliError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  return err as CliError;
}

/** A folder that already holds a run (a manifest is all createRun looks at). */
function existingRun(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ run: path.basename(dir), status: 'complete' }));
  return dir;
}

describe('bad command lines', () => {
  it('sim fit without --samples is a usage error naming the flag', async () => {
    const err = await failure(sim(['fit'], () => {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/--samples: missing: give a .jsonl or .csv/);
  });

  it('sim: an unknown subcommand lists the valid ones', async () => {
    const err = await failure(sim(['serv'], () => {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^sim: unknown subcommand: 'serv' is not one of 'serve'/);
  });

  it('sim run into a folder that holds a run names --out and leaves the run alone', async () => {
    const dir = existingRun(path.join(tmp, 'sim-out'));
    const before = fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    const err = await failure(sim(['run', '--rate', '5', '--num-requests', '3', '--out', dir], () => {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`--out ${dir}: ${dir} already holds a run`);
    expect(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(dir, 'raw'))).toBe(false);
  });

  it('sim run and simulate --run with a taken --run-id name the flag', async () => {
    const data = path.join(tmp, 'data');
    existingRun(path.join(data, 'runs', 'sim', 'taken'));
    existingRun(path.join(data, 'runs', 'schedule', 'taken'));
    const a = await failure(sim(['run', '--rate', '5', '--num-requests', '3', '--data', data, '--run-id', 'taken'], () => {}));
    expect(a.exitCode).toBe(2);
    expect(a.message).toMatch(/^--run-id taken: .*runs\/sim\/taken already holds a run/);
    const lines: string[] = [];
    const b = await failure(simulate(['--workload', 'discriminating', '--run', '--data', data, '--run-id', 'taken'], (s) => lines.push(s)));
    expect(b.exitCode).toBe(2);
    expect(b.message).toMatch(/^--run-id taken: .*runs\/schedule\/taken already holds a run/);
    expect(lines).toEqual([]);
  });

  it('sim run rejects bad workload flags by name before it creates a run folder', async () => {
    const cases: [string[], RegExp][] = [
      [['--duration', '-3'], /^--duration: -3 must be a positive number/],
      [['--num-requests', '5', '--arrival', 'gamma', '--burstiness', '-1'], /^--burstiness: -1 must be a positive number/],
      [['--num-requests', '5', '--arrival', 'mmpp', '--mmpp', '1,2,-1,3'], /^mmpp\.switch\[0\]: -1 must be a positive number/],
      [['--num-requests', '5', '--model', 'Qwen3-30B-A3B', '--moe-skew', '3'], /^--moe-skew: 3 must be between 0 and 1/],
      [['--num-requests', '5', '--adapters', '3', '--gpu-loras', '2', '--max-loras', '4'], /^--gpu-loras: 2 must be ≥ --max-loras 4/],
    ];
    for (const [i, [flags, msg]] of cases.entries()) {
      const out = path.join(tmp, `bad-${i}`);
      const err = await failure(sim(['run', '--rate', '5', ...flags, '--out', out], () => {}));
      expect(err.exitCode, flags.join(' ')).toBe(2);
      expect(err.message).toMatch(msg);
      expect(fs.existsSync(out), `${out} left behind`).toBe(false);
    }
  });

  it('simulate --run-id without --run is a usage error (it was silently ignored)', async () => {
    const lines: string[] = [];
    const err = await failure(simulate(['--workload', 'discriminating', '--run-id', 'x'], (s) => lines.push(s)));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('--run-id: only used with --run (record the simulation as a run)');
    expect(lines).toEqual([]);
  });

  it('stages over several runs without --out names the flag (was an internal API message, exit 1)', async () => {
    const { run: stages } = await import('../../analysis/cmd-stages.ts');
    const a = existingRun(path.join(tmp, 'stages', 'a'));
    const b = existingRun(path.join(tmp, 'stages', 'b'));
    const err = await failure(stages([a, b]));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^stages: 2 run folders need --out DIR/);
  });
});
