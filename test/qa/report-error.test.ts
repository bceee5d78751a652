// Regression test: a file-system error from a path the user gave (an --out that is a folder,
// a parent that is a file) prints `PATH: problem (CODE)` with exit 1, not an internal error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../core/cli.ts';
import { fileSystemProblem } from '../../core/errors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-fs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function caught(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('no error');
}

function stderrOf(err: unknown): { code: number; text: string } {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((text += String(s)), true));
  try {
    return { code: reportError(err), text };
  } finally {
    spy.mockRestore();
  }
}

describe('reportError on file-system errors', () => {
  it('names the destination of a rename onto a folder', () => {
    const src = path.join(tmp, 'src.txt');
    fs.writeFileSync(src, 'x');
    const dir = path.join(tmp, 'out');
    fs.mkdirSync(dir);
    const r = stderrOf(caught(() => fs.renameSync(src, dir)));
    expect(r).toEqual({ code: 1, text: `servelab: ${dir}: is a directory (give a file name) (EISDIR)\n` });
  });

  it('names the path under a file, and leaves other errors internal', () => {
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, '');
    const err = caught(() => fs.mkdirSync(path.join(file, 'raw'), { recursive: true }));
    expect(fileSystemProblem(err)).toBe(`${path.join(file, 'raw')}: a part of the path is not a directory (ENOTDIR)`);
    expect(fileSystemProblem(new Error('boom'))).toBeUndefined();
    expect(stderrOf(new Error('boom')).text).toMatch(/^servelab: internal error: Error: boom/);
  });
});

describe('sql --out naming a folder', () => {
  it('says the path is a folder instead of "query failed"', async () => {
    const { run: sql } = await import('../../analysis/cmd-sql.ts');
    const data = path.join(tmp, 'archive');
    fs.mkdirSync(path.join(data, 'runs'), { recursive: true });
    const out = path.join(tmp, 'out-folder');
    fs.mkdirSync(out);
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const err = await sql(['select 1 x', '--data', data, '--format', 'csv', '--out', out]).then(
      () => undefined,
      (e: unknown) => e,
    );
    spy.mockRestore();
    expect(err).toMatchObject({ exitCode: 1, message: `${out}: is a directory (give a file name) (EISDIR)`, details: [] });
  });
});
