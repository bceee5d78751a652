// Regression tests for `runs ls`, `runs show` and report's run lookup: one broken manifest does not stop the
// listing (marked unreadable, warned with the file, exit 1); a manifest lacking fields shows no 'undefined'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run as runs } from '../../analysis/cmd-runs.ts';
import { reportError } from '../../core/cli.ts';
import { captureOutput } from '../helpers/capture.ts';

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-runs-ls-'));
afterAll(() => fs.rmSync(data, { recursive: true, force: true }));

async function capture(...argv: string[]) {
  const { value: code, stdout, stderr } = await captureOutput(() => runs(argv).catch(reportError));
  return { code, stdout, stderr };
}

function runDir(id: string, manifest: string): string {
  const dir = path.join(data, 'runs', 'exp', id);
  fs.mkdirSync(path.join(dir, 'raw'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), manifest);
  return dir;
}

describe('runs ls with a broken manifest', () => {
  it('lists the good runs, marks the broken one and warns naming its file', async () => {
    runDir('good', JSON.stringify({ run: 'good', experiment: 'exp', status: 'complete', started_unix_ms: 0, counts: { requests: 3 } }));
    const bad = runDir('torn', '{"run": ');
    const r = await capture('ls', '--data', data);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^warning: ${path.join(bad, 'manifest.json').replace(/[.\\/]/g, '\\$&')}: invalid JSON`));
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^exp +good +complete +1970-01-01 00:00:00 +3 +no +\d+ B$/);
    expect(lines[3]).toMatch(/^exp +torn +unreadable /);
    const json = await capture('ls', '--data', data, '--json');
    expect(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).status)).toEqual(['complete', 'unreadable']);
  });

  it('show leaves out the tool line when the manifest has no tool_version', async () => {
    runDir('bare', JSON.stringify({ run: 'bare', experiment: 'exp', status: 'complete', started_unix_ms: 0 }));
    const r = await capture('show', 'exp/bare', '--data', data);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^status +complete$/m);
    expect(r.stdout).not.toMatch(/undefined/);
    expect(r.stdout).not.toMatch(/^tool /m);
  });
});

describe('report: a run id in an empty or missing archive', () => {
  it('says the archive is empty or missing instead of "is not one of" an empty list', async () => {
    const { resolveRun } = await import('../../analysis/runstore.ts');
    const empty = path.join(data, 'empty-archive');
    fs.mkdirSync(path.join(empty, 'runs'), { recursive: true });
    expect(() => resolveRun('r1', empty)).toThrow(`run 'r1' not found: no runs under ${empty}: run a pipeline first, or point --data at an archive`);
    expect(() => resolveRun('r1', path.join(empty, 'no'))).toThrow(/^run 'r1' not found: data folder .*no does not exist/);
    expect(() => resolveRun('nope', data)).toThrow(`run 'nope' not found under ${data}`);
  });
});
