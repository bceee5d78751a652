// Regression test: `servelab … | head` — the reader closing the pipe early ends the command
// quietly with exit 0, not an unhandled EPIPE and a stack trace on stderr.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('stdout closed by the reader', () => {
  it('exits 0 without an EPIPE stack', async () => {
    const child = spawn(process.execPath, ['bin/servelab.js', 'sql', 'select * from range(300000)', '--format', 'csv', '--data', 'data/samples'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  }, 30_000);
});
