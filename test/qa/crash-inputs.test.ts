// Inputs that used to crash (V8 out of memory, "Invalid typed array length", internal error,
// exit 1 for a usage mistake) now give a clear error with exit 2, or the right answer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as sql } from '../../analysis/cmd-sql.ts';
import { finalizeRun } from '../../analysis/runstore.ts';
import { run as bench } from '../../collectors/cmd-bench.ts';
import { buildSchedule } from '../../collectors/schedule.ts';
import { seededRng } from '../../collectors/rng.ts';
import { parseArgs } from '../../core/args.ts';
import { reportError } from '../../core/cli.ts';
import { createRun } from '../../core/run.ts';
import { spec as serveSpec, resolveConfigs } from '../../simulator/server/cmd-serve.ts';
import { captureOutput } from '../helpers/capture.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-crash-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const usage = async (p: Promise<unknown>, text: string | RegExp) => {
  const err = await p.then(
    () => null,
    (e: { exitCode?: number; message: string }) => e,
  );
  expect(err, String(text)).not.toBeNull();
  expect(err!.exitCode).toBe(2);
  expect(err!.message).toMatch(text);
};

describe('bench flags', () => {
  const base = ['--base-url', 'http://127.0.0.1:9', '--model', 'm', '--data', root];
  it('--num-prompts 1e15, a bad --ramp-up, --timeout -1, --random-range-ratio 5, --scrape-interval 0, --duration -3', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await usage(bench([...base, '--num-prompts', '1e15']), '--num-prompts: 1e15 is above the maximum 100000000');
      await usage(bench([...base, '--ramp-up', '10:x']), "--ramp-up: stage '10:x': expected DURATION:RATE or DURATION:FROM-TO");
      await usage(bench([...base, '--ramp-up', '0:5']), 'the duration must be greater than 0 s');
      await usage(bench([...base, '--timeout', '-1']), '--timeout: -1 must be greater than 0');
      await usage(bench([...base, '--random-range-ratio', '5']), '--random-range-ratio: 5 is above the maximum 0.999');
      await usage(bench([...base, '--scrape-interval', '0']), '--scrape-interval: 0 is below the minimum 0.05');
      await usage(bench([...base, '--duration', '-3']), '--duration: -3 must be greater than 0');
    } finally {
      vi.restoreAllMocks();
    }
    expect(fs.existsSync(path.join(root, 'runs'))).toBe(false); // nothing was started
  });

  it('a schedule of more than 1e8 arrivals is a usage error, not a typed-array crash', () => {
    expect(() => buildSchedule({ rate: 1e6, arrival: 'poisson', durationS: 1e6 } as never, seededRng(1))).toThrow(/would schedule 1.00e\+12 requests/);
  });

  it('an integer flag beyond 2^53 is refused', () => {
    expect(() => parseArgs(serveSpec, ['--seed', '1e300'])).toThrow('--seed: 1e300 is too large for a whole number');
  });
});

describe('sim serve config', () => {
  it('--gpus 1e12 is refused before anything is allocated', () => {
    expect(() => resolveConfigs(parseArgs(serveSpec, ['--gpus', '1000000000000']))).toThrow('--gpus: must be a whole number from 1 to 4,096');
  });

  it('maxModelLen: 1e308 and seed: .nan in a YAML config name the file and field', () => {
    const file = path.join(root, 'serve.yaml');
    fs.writeFileSync(file, 'model: Llama-3-8B\nmaxModelLen: 1e308\n');
    expect(() => resolveConfigs(parseArgs(serveSpec, ['--config', file]))).toThrow(`${file}: maxModelLen: must be a whole number from 1 to 10,000,000`);
    fs.writeFileSync(file, 'model: Llama-3-8B\nseed: .nan\n');
    expect(() => resolveConfigs(parseArgs(serveSpec, ['--config', file]))).toThrow(`${file}: seed: must be a whole number, got NaN`);
  });
});

describe('a record larger than DuckDB\'s default 16 MB object', () => {
  it('is read by sql and finalized', async () => {
    const data = path.join(root, 'big');
    const r = createRun({ experiment: 'e', runId: 'big', dataDir: data });
    r.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok' });
    r.append('requests', { request_id: 'b', protocol: 'sim', status: 'ok', error: 'x'.repeat(20 << 20) });
    r.finish('complete');
    const out = await captureOutput(() => sql(['select request_id, length(error) n from requests order by 1', '--data', data, '-f', 'csv']).catch(reportError));
    expect([out.value, out.stdout]).toEqual([0, `request_id,n\na,\nb,${20 << 20}\n`]);
    const f = await finalizeRun(r.dir);
    expect(f.tables.find((t) => t.table === 'requests')?.records).toBe(2);
  });
});
