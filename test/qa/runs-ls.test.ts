// Regression test: `runs ls` over an archive where one run's manifest is broken still lists
// the other runs, marks the broken one unreadable, warns with the file and exits 1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as runs } from '../../analysis/cmd-runs.ts';
import { reportError } from '../../core/cli.ts';

const data = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-runs-ls-'));
afterAll(() => fs.rmSync(data, { recursive: true, force: true }));

async function capture(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  try {
    const code = await runs(argv).catch(reportError);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
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
    expect(lines[2]).toMatch(/^exp +good +complete +1970-01-01 00:00:00 +3 +no$/);
    expect(lines[3]).toMatch(/^exp +torn +unreadable /);
    const json = await capture('ls', '--data', data, '--json');
    expect(json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).status)).toEqual(['complete', 'unreadable']);
  });
});
