// Experiment names and run ids are checked in one place (createRun): each is one folder under
// runs/, so nothing that leaves it, hides it or reads as a hive partition gets through; and an
// archive that sits under a key=value folder anyway keeps its own columns.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { finalizeRun } from '../../analysis/runstore.ts';
import { CliError } from '../../core/errors.ts';
import { createRun, validateRunName } from '../../core/run.ts';
import { refuseExistingRun } from '../../simulator/run-guard.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-names-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const BAD = ['', '.', '..', '../../x', 'a/b', 'a\\b', 'line\nbreak', 'tab\there', 'endpoint=X', 'rate=10', '.hidden', 'x'.repeat(201)];

describe('run names', () => {
  it.each(BAD)('%j is refused as experiment and as run id, exit 2, nothing written', (name) => {
    const data = path.join(root, 'archive');
    for (const opts of [{ experiment: name, runId: 'ok' }, { experiment: 'ok', runId: name }]) {
      let err: unknown;
      try {
        createRun({ ...opts, dataDir: data });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(/^--(experiment|run-id) ".*": the (experiment|run id) /s);
    }
    expect(fs.existsSync(data)).toBe(false);
    expect(fs.readdirSync(root).sort()).toEqual(fs.readdirSync(root).filter((f) => f !== 'x').sort());
    expect(() => refuseExistingRun({ experiment: 'sim', runId: name, dataDir: data })).toThrow(CliError);
  });

  it('ordinary names pass: letters, digits, -, _, inner dots, unicode', () => {
    for (const n of ['moe', '20261123-045101-a1b2', 'tp4_run1', 'v1.2', 'r-é']) expect(() => validateRunName('run id', n)).not.toThrow();
  });

  it('an archive under a key=value folder keeps its columns (no hive partitioning), raw and finalized', async () => {
    const data = path.join(root, 'endpoint=X');
    const live = createRun({ experiment: 'exp', runId: 'live', dataDir: data });
    live.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok', endpoint: 'real' });
    live.flush();
    const done = createRun({ experiment: 'exp', runId: 'done', dataDir: data });
    done.append('requests', { request_id: 'b', protocol: 'sim', status: 'ok', endpoint: 'real' });
    done.finish('complete');
    await finalizeRun(done.dir);
    const cat = await openCatalog({ dataDir: data, warn: () => {} });
    try {
      expect(await queryRows(cat.conn, 'select run, endpoint from requests order by run')).toEqual([
        { run: 'done', endpoint: 'real' },
        { run: 'live', endpoint: 'real' },
      ]);
    } finally {
      cat.close();
    }
  });
});
