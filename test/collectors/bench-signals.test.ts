// SIGTERM (as from `kill`, a job scheduler or `timeout`) drains `servelab bench` like Ctrl-C:
// nothing new is sent, requests in flight finish and are recorded, the summary prints, and
// the run is marked incomplete; a second signal cancels what is left (still recorded).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

const bin = path.resolve('bin/servelab.js');
let srv: SseServer;
let data: string;
beforeAll(async () => {
  srv = await startSseServer({ chunks: 8, delayMs: 60 });
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sigterm-'));
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(data, { recursive: true, force: true });
});

/** Starts a bench, sends `signals` once the first records exist, and waits for its exit. */
function benchThenSignal(runId: string, signals: NodeJS.Signals[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const argv = [bin, 'bench', '--base-url', srv.url, '--data', data, '--run-id', runId, '--dataset-name', 'random', '--random-input-len', '8',
    '--random-output-len', '8', '--num-prompts', '2000', '--request-rate', '20', '--grace', '20'];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const requests = path.join(data, 'runs/bench', runId, 'raw/requests.jsonl');
  const poll = setInterval(() => {
    if (fs.existsSync(requests) && fs.statSync(requests).size > 0 && signals.length) {
      child.kill(signals.shift());
      if (!signals.length) clearInterval(poll);
    }
  }, 100);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

const lines = (runId: string) =>
  fs.readFileSync(path.join(data, 'runs/bench', runId, 'raw/requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string });
const manifest = (runId: string) => JSON.parse(fs.readFileSync(path.join(data, 'runs/bench', runId, 'manifest.json'), 'utf8'));

describe('bench under SIGTERM', () => {
  it('drains: every request the server received has a record, all ok; summary printed; run incomplete; exit 1', async () => {
    const before = srv.hits.get('/v1/completions') ?? 0;
    const r = await benchThenSignal('term', ['SIGTERM']);
    expect([r.code, r.signal]).toEqual([1, null]);
    expect(r.stderr).toContain('SIGTERM: stopping: no new requests');
    expect(r.stdout).toContain('Serving Benchmark Result');
    const recs = lines('term');
    expect(recs.length).toBe((srv.hits.get('/v1/completions') ?? 0) - before);
    expect(recs.length).toBeLessThan(2000);
    expect(recs.every((x) => x.status === 'ok')).toBe(true);
    expect(manifest('term')).toMatchObject({ status: 'incomplete', error: expect.stringContaining('SIGTERM') });
  });

  it('a second SIGTERM cancels what is in flight: those get cancelled records', async () => {
    const before = srv.hits.get('/v1/completions') ?? 0;
    const r = await benchThenSignal('term2', ['SIGTERM', 'SIGTERM']);
    expect([r.code, r.signal]).toEqual([1, null]);
    const recs = lines('term2');
    expect(recs.length).toBe((srv.hits.get('/v1/completions') ?? 0) - before);
    expect(manifest('term2').status).toBe('incomplete');
  });
});
