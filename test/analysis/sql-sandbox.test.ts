// `servelab sql` is read-only by construction: the statement check sees through EXPLAIN
// [ANALYZE], and the connection itself refuses every file outside the archive and every URL,
// even with --write, and cannot be SET back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitStatements } from '../../analysis/catalog.ts';
import { run as sql } from '../../analysis/cmd-sql.ts';
import { reportError } from '../../core/cli.ts';
import { message } from '../../core/messages.ts';
import { createRun } from '../../core/run.ts';
import { captureOutput } from '../helpers/capture.ts';

async function capture(...argv: string[]) {
  const { value: code, stdout, stderr } = await captureOutput(() => sql(argv).catch(reportError));
  return { code, stdout, stderr };
}

let root: string;
let data: string;
let outside: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sandbox-'));
  data = path.join(root, 'archive');
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  const r = createRun({ experiment: 'exp', runId: 'live', dataDir: data });
  r.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok', sent_ns: 1, endpoint: 'x' });
  r.flush();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('servelab sql sandbox', () => {
  it('EXPLAIN ANALYZE of a COPY is refused as a write, and with --write the COPY outside the archive fails and writes nothing', async () => {
    const target = path.join(outside, 'x.csv');
    const q = `EXPLAIN ANALYZE COPY (select * from read_text('${path.join(outside, 'secret.txt')}')) TO '${target}'`;
    expect(await capture(q, '--data', data)).toMatchObject({ code: 2, stderr: `servelab: ${message.notReadOnly('EXPLAIN COPY')}\n` });
    const sneaky = await capture(`explain /* x */ analyze -- y\n copy requests to '${target}'`, '--data', data);
    expect(sneaky.code).toBe(2);
    const forced = await capture(q, '--data', data, '--write');
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/Permission Error/);
    expect(fs.existsSync(target)).toBe(false);
  });

  it('reads outside the archive and URLs fail with a Permission Error; extensions are not installed', async () => {
    for (const q of [
      `select * from read_text('${path.join(outside, 'secret.txt')}')`,
      "select * from read_csv('https://example.com/x.csv')",
      `select * from glob('${outside}/*')`,
    ]) {
      const r = await capture(q, '--data', data);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(/Permission Error/);
    }
    const install = await capture('EXPLAIN ANALYZE INSTALL httpfs', '--data', data, '--write');
    expect(install.code).toBe(1);
  });

  it('EXPORT DATABASE outside the archive creates nothing; the settings cannot be changed back', async () => {
    const dir = path.join(outside, 'exported');
    expect((await capture(`EXPORT DATABASE '${dir}'`, '--data', data)).code).toBe(2);
    expect((await capture(`EXPORT DATABASE '${dir}'`, '--data', data, '--write')).code).toBe(1);
    expect(fs.existsSync(dir)).toBe(false);
    const unlock = await capture("SET enable_external_access = true; select * from read_text('/etc/hostname')", '--data', data, '--write');
    expect(unlock.code).toBe(1);
    expect(unlock.stderr).toMatch(/locked/);
  });

  it('reads inside the archive, EXPLAIN of a read, and --format parquet to a file outside it still work', async () => {
    expect((await capture('select count(*) n from requests', '--data', data, '-f', 'csv')).stdout).toBe('n\n1\n');
    expect((await capture('explain select * from requests', '--data', data)).code).toBe(0);
    const out = path.join(outside, 'r.parquet');
    expect((await capture('select * from requests', '--data', data, '--out', out)).code).toBe(0);
    expect(fs.statSync(out).size).toBeGreaterThan(0);
  });

  it('a --lenient cleaned copy (outside the archive, in the catalog\'s own folder) is still readable', async () => {
    const own = path.join(root, 'lenient');
    const r = createRun({ experiment: 'exp', runId: 'bad', dataDir: own });
    r.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok', sent_ns: 1 });
    r.append('requests', { request_id: 'b', protocol: 'sim', status: 'ok', sent_ns: 2 });
    r.flush();
    const file = path.join(r.dir, 'raw', 'requests.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    fs.writeFileSync(file, [lines[0], '{"request_id": 5}', lines[1], ''].join('\n'));
    const res = await capture('select count(*) n from requests', '--data', own, '--lenient', '-f', 'csv');
    expect([res.code, res.stdout]).toEqual([0, 'n\n2\n']);
  });

  it('splits statements outside quotes and comments', () => {
    expect(splitStatements("select ';' a; -- x;\nselect 2 /* ; */;")).toEqual(["select ';' a", '  \nselect 2  ']);
  });
});
