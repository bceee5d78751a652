// Tests of `servelab sql` (tables, csv/json/ndjson, --db, bad queries, read-only unless --write)
// and `servelab runs ls/show` over small runs made here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as sql } from '../../analysis/cmd-sql.ts';
import { run as runs } from '../../analysis/cmd-runs.ts';
import { finalizeRun } from '../../analysis/runstore.ts';
import { reportError } from '../../core/cli.ts';
import { message } from '../../core/messages.ts';
import { createRun } from '../../core/run.ts';
import { captureOutput } from '../helpers/capture.ts';

/** Runs a command in-process and captures what it prints, as the CLI would show it. */
async function capture(cmd: (argv: string[]) => Promise<number>, ...argv: string[]) {
  const { value: code, stdout, stderr } = await captureOutput(() => cmd(argv).catch(reportError));
  return { code, stdout, stderr };
}

let data: string;
beforeAll(async () => {
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sql-'));
  const a = createRun({ experiment: 'exp', runId: 'done', dataDir: data });
  a.append('requests', { request_id: 'a1', protocol: 'sim', status: 'ok', sent_ns: 100, first_token_ns: 110, endpoint: 'x' });
  a.append('requests', { request_id: 'a2', protocol: 'sim', status: 'ok', sent_ns: 200, first_token_ns: 230, endpoint: 'x' });
  a.finish('complete');
  await finalizeRun(a.dir);
  const b = createRun({ experiment: 'exp', runId: 'live', dataDir: data });
  b.append('requests', { request_id: 'b1', protocol: 'sim', status: 'timeout', sent_ns: 5_000_000_000_000, endpoint: 'y' });
  b.flush();
});
afterAll(() => fs.rmSync(data, { recursive: true, force: true }));

const q = 'select run, count(*) n, max(sent_ns) mx from requests group by run order by run';

describe('servelab sql', () => {
  it('prints an aligned table, BIGINTs as plain numbers, over finalized and raw runs', async () => {
    const r = await capture(sql, q, '--data', data);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(['run   n             mx', '----  -  -------------', 'done  2            200', 'live  1  5000000000000', ''].join('\n'));
  });

  it('writes csv, json and ndjson, to stdout or atomically to --out', async () => {
    expect((await capture(sql, q, '--data', data, '--format', 'csv')).stdout).toBe('run,n,mx\ndone,2,200\nlive,1,5000000000000\n');
    expect(JSON.parse((await capture(sql, q, '--data', data, '-f', 'json')).stdout)).toEqual([
      { run: 'done', n: 2, mx: 200 },
      { run: 'live', n: 1, mx: 5000000000000 },
    ]);
    expect(JSON.parse((await capture(sql, `select '{"a":[1]}'::JSON j, 'x' s`, '--data', data, '-f', 'json')).stdout)).toEqual([{ j: { a: [1] }, s: 'x' }]);
    const out = path.join(data, 'out.ndjson');
    const r = await capture(sql, q, '--data', data, '--out', out);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('{"run":"done","n":2,"mx":200}\n{"run":"live","n":1,"mx":5000000000000}\n');
    const pq = path.join(data, 'out.parquet');
    expect((await capture(sql, q, '--data', data, '--out', pq)).code).toBe(0);
    expect((await capture(sql, `select sum(n)::int s from '${pq}'`, '--data', data, '-f', 'csv')).stdout).toBe('s\n3\n');
    // a query that ends in a line comment still writes Parquet
    expect((await capture(sql, `${q} -- the runs`, '--data', data, '--out', pq)).code).toBe(0);
    expect(await capture(sql, q, '--data', data, '-f', 'parquet')).toMatchObject({ code: 2, stderr: 'servelab: sql: --format parquet needs --out FILE\n' });
  });

  it('--db writes a DuckDB file that a fresh DuckDB instance opens on its own', async () => {
    const file = path.join(data, 'archive.duckdb');
    expect((await capture(sql, '--db', file, '--data', data)).code).toBe(0);
    const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll('select run, count(*)::int n from requests group by run order by run')).getRowObjectsJson();
    const tables = (await conn.runAndReadAll("select table_name from duckdb_tables() order by 1")).getRowObjectsJson().map((t) => t.table_name);
    conn.closeSync();
    db.closeSync();
    expect(rows).toEqual([{ run: 'done', n: 2 }, { run: 'live', n: 1 }]);
    expect(tables).toEqual(['chunks', 'gate_load_groups', 'gate_loads', 'predicted_gate_loads', 'predicted_request_metrics', 'predicted_requests', 'request_itl', 'request_metrics', 'requests', 'runs', 'scrapes', 'sim_intervals', 'sim_steps']);
  });

  it('a bad query prints DuckDB\'s message and the views; writes are refused unless --write', async () => {
    const bad = await capture(sql, 'select nope from requests', '--data', data);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^servelab: query failed: Binder Error: Referenced column "nope" not found/);
    expect(bad.stderr).toContain('  views available: requests, chunks, gate_loads, scrapes, sim_intervals, sim_steps, predicted_requests, predicted_gate_loads, runs, gate_load_groups, predicted_request_metrics, request_itl, request_metrics\n');
    const write = await capture(sql, "copy requests to 'x.csv'", '--data', data);
    expect([write.code, write.stderr]).toEqual([2, `servelab: ${message.notReadOnly('COPY')}\n`]);
    expect((await capture(sql, 'create table t as select 1 x; select x from t', '--data', data, '--write', '-f', 'csv')).stdout).toBe('x\n1\n');
  });

  it('a malformed middle line of a live run stops the query with file:line; --lenient answers and reports the skipped lines', async () => {
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sql-bad-'));
    try {
      const r = createRun({ experiment: 'exp', runId: 'torn', dataDir: own });
      r.append('requests', { request_id: 'c1', protocol: 'sim', status: 'ok', sent_ns: 1 });
      r.flush();
      const file = r.rawFile('requests');
      fs.appendFileSync(file, '{"run":"torn","request_id":"c2","protocol":"sim","status":"maybe"}\n');
      fs.appendFileSync(file, '{"run":"torn","request_id":"c3","protocol":"sim","status":"ok","sent_ns":3}\n{"run":"to');
      const q2 = 'select count(*) n, max(sent_ns) mx from requests';
      const strict = await capture(sql, q2, '--data', own, '-f', 'csv');
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(new RegExp(`^servelab: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: status: 'maybe' is not one of ok, `));
      expect(strict.stdout).toBe('');
      const lenient = await capture(sql, q2, '--data', own, '-f', 'csv', '--lenient');
      expect(lenient.code).toBe(0);
      expect(lenient.stdout).toBe('n,mx\n2,3\n');
      expect(lenient.stderr).toContain(`${file}: skipped 1 malformed line(s) (--lenient); the first: ${file}:2: status: 'maybe'`);
    } finally {
      fs.rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('servelab runs', () => {
  it('ls prints an aligned table; show names close matches for an unknown run', async () => {
    const ls = await capture(runs, 'ls', '--data', data);
    // the size column (last) varies with the manifest's host and commit: checked by form, then cut
    expect(ls.stdout.split('\n').slice(2, 4).every((l) => / {2}\d+(\.\d)? K?B$/.test(l))).toBe(true);
    expect(ls.stdout.split('\n').map((l) => l.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'T').replace(/ {2,}(size|-{4,}|\d+(\.\d)? [KM]?B) *$/, ''))).toEqual([
      'experiment  run   status    started  requests  finalized',
      '----------  ----  --------  -------------------  --------  ---------'.replace('-------------------', '-'.repeat(19)),
      'exp         done  complete  T         2  yes',
      'exp         live  running   T         1  no',
      '',
    ].map((l) => l.replace('started  requests', 'started              requests')));
    const show = await capture(runs, 'show', 'exp/lve', '--data', data);
    expect([show.code, show.stderr]).toEqual([
      1,
      `servelab: run 'exp/lve' not found under ${data}\n  close matches: exp/live\n` +
        '  give a run folder, a run id or experiment/run-id (servelab runs ls lists them), or --data DIR for another archive\n',
    ]);
    const empty = path.join(data, 'empty-archive');
    fs.mkdirSync(empty);
    expect(await capture(runs, 'ls', '--data', empty)).toMatchObject({ code: 0, stdout: '', stderr: `${message.emptyArchive(empty)}\n` });
    expect(await capture(runs, 'ls', '--data', path.join(empty, 'no'))).toMatchObject({ code: 1, stderr: `servelab: ${message.noDataDir(path.join(empty, 'no'))}\n` });
  });
});
