// The stage runner: header parsing, dependency order and cycles, freshness by modification
// time, atomic outputs with the error kept on failure, and several runs into one folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputFiles, loadStages, parseStage, runStages, stageOrder } from '../../analysis/stages.ts';
import { viewNamed } from '../../analysis/views.ts';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `servelab-${p}-`));

function makeRun(root: string, id: string, requests: object[]): string {
  const dir = path.join(root, 'runs', 'demo', id);
  fs.mkdirSync(path.join(dir, 'raw'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ run: id, experiment: 'demo', status: 'complete', started_unix_ms: 0, tool_version: '0', host: 'h' }));
  fs.writeFileSync(path.join(dir, 'raw', 'requests.jsonl'), requests.map((r) => JSON.stringify({ run: id, protocol: 'sim', ...r }) + '\n').join(''));
  return dir;
}

const header = (inputs: string, depends: string) => `-- inputs: ${inputs}\n-- depends: ${depends}\n-- grain: run\n-- units: ms\n`;

function stageDir(stages: Record<string, string>): string {
  const dir = tmp('stagedir');
  for (const [name, text] of Object.entries(stages)) fs.writeFileSync(path.join(dir, `${name}.sql`), text);
  return dir;
}

const twoStages = () =>
  stageDir({
    base: `${header('requests', '(none)')}SELECT run, count(*)::INTEGER AS n, sum(first_token_ns - sent_ns)::BIGINT AS ttft FROM requests GROUP BY run ORDER BY run;\n`,
    top: `${header('runs', 'base')}SELECT b.run, b.n * 10 AS n10, r.experiment FROM base b JOIN runs r USING (run) ORDER BY b.run\n`,
  });

describe('stage headers and order', () => {
  it('parses inputs, depends and grain, and rejects unknown tables with the valid choices', () => {
    const s = parseStage('x/a.sql', `${header('requests, chunks', 'b, c')}select 1;`);
    expect(s).toMatchObject({ name: 'a', inputs: ['requests', 'chunks'], depends: ['b', 'c'], grain: 'run', sql: `${header('requests, chunks', 'b, c')}select 1` });
    expect(() => parseStage('x/a.sql', `${header('reqests', '(none)')}select 1`)).toThrow(/x\/a\.sql:1: inputs: 'reqests' is not one of .*did you mean 'requests'/);
    expect(() => parseStage('x/a.sql', `-- inputs: requests\nselect 1`)).toThrow(/x\/a\.sql:1: header: missing '-- grain/);
  });

  it('a catalog view as input stands for its SQL file and the tables it reads (freshness)', () => {
    const run = makeRun(tmp('runs'), 'r1', [{ request_id: 'a', status: 'ok' }]);
    const s = parseStage('x/a.sql', `${header('request_metrics', '(none)')}select 1`);
    expect(s.inputs).toEqual(['request_metrics']);
    expect(inputFiles(s, [run], tmp('out')).sort()).toEqual([path.join(run, 'manifest.json').replace('manifest.json', 'raw/requests.jsonl'), viewNamed('request_metrics')!.file].sort());
    expect(() => parseStage('x/a.sql', `${header('request_metric', '(none)')}select 1`)).toThrow(/did you mean 'request_metrics'/);
  });

  it('orders dependencies first and names a cycle', () => {
    const dir = stageDir({
      a: `${header('requests', 'b')}select 1`,
      b: `${header('requests', 'c')}select 1`,
      c: `${header('requests', '(none)')}select 1`,
      x: `${header('requests', 'y')}select 1`,
      y: `${header('requests', 'x')}select 1`,
    });
    const all = loadStages(dir);
    expect(stageOrder(all, ['a']).map((s) => s.name)).toEqual(['c', 'b', 'a']);
    expect(() => stageOrder(all, ['x'])).toThrow('stage dependency cycle: x → y → x');
    expect(() => stageOrder(all, ['q'])).toThrow(/stage 'q' is not one of/);
  });

  it('every project stage has a valid header and its dependencies exist', () => {
    const all = loadStages();
    expect(all.has('latency_summary')).toBe(true);
    expect(stageOrder(all).length).toBe(all.size);
  });
});

describe('runStages', () => {
  it('builds in order, then is fresh, and rebuilds when an input is newer', async () => {
    const root = tmp('runs');
    const run = makeRun(root, 'r1', [
      { request_id: 'a', status: 'ok', sent_ns: 100, first_token_ns: 110 },
      { request_id: 'b', status: 'ok', sent_ns: 200, first_token_ns: 230 },
    ]);
    const dir = twoStages();
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const first = await runStages({ runDir: run, stageDir: dir, log });
    expect(first.map((r) => [r.stage, r.state])).toEqual([['base', 'built'], ['top', 'built']]);
    expect(lines[0]).toMatch(/^\[built\] base \d+(\.\d)? (B|KB) in \d+ ms$/);
    expect(fs.readdirSync(path.join(run, 'derived')).sort()).toEqual(['base.parquet', 'top.parquet']);

    const cat = await openCatalog({ runDirs: [run] });
    try {
      expect(await queryRows(cat.conn, `select * from read_parquet('${first[1]!.output}')`)).toEqual([{ run: 'r1', n10: 20, experiment: 'demo' }]);
    } finally {
      cat.close();
    }

    const second = await runStages({ runDir: run, stageDir: dir, log });
    expect(second.map((r) => r.state)).toEqual(['fresh', 'fresh']);

    // An output older than the raw file makes base stale, and so top (its dependency output is now newer).
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(run, 'derived', 'base.parquet'), past, past);
    const third = await runStages({ runDir: run, stageDir: dir, log });
    expect(third.map((r) => r.state)).toEqual(['built', 'built']);

    // Only top's own input (the manifest, via the runs table) changed: base stays fresh.
    const later = new Date(Date.now() + 10000);
    fs.utimesSync(path.join(run, 'manifest.json'), later, later);
    const fourth = await runStages({ runDir: run, stageDir: dir, stages: ['top'], log });
    expect(fourth.map((r) => [r.stage, r.state])).toEqual([['base', 'fresh'], ['top', 'built']]);

    const forced = await runStages({ runDir: run, stageDir: dir, stages: ['base'], force: true, log });
    expect(forced.map((r) => r.state)).toEqual(['built']);
  });

  it('keeps the error and leaves no partial output when a stage fails; success clears the error', async () => {
    const run = makeRun(tmp('runs'), 'r1', [{ request_id: 'a', status: 'ok' }]);
    const dir = stageDir({ bad: `${header('requests', '(none)')}SELECT no_such_column FROM requests` });
    const out = tmp('out');
    await expect(runStages({ runDir: run, outDir: out, stageDir: dir, log: () => {} })).rejects.toThrow(/bad\.sql: stage bad failed: .*no_such_column/);
    expect(fs.readdirSync(out)).toEqual(['bad.error.txt']);
    expect(fs.readFileSync(path.join(out, 'bad.error.txt'), 'utf8')).toMatch(/no_such_column/);

    fs.writeFileSync(path.join(dir, 'bad.sql'), `${header('requests', '(none)')}SELECT request_id FROM requests`);
    await runStages({ runDir: run, outDir: out, stageDir: dir, log: () => {} });
    expect(fs.readdirSync(out)).toEqual(['bad.parquet']);
  });

  it('a malformed middle raw line fails the stage run with file:line; lenient builds from the good lines and logs the count', async () => {
    const run = makeRun(tmp('runs'), 'r1', [
      { request_id: 'a', status: 'ok', sent_ns: 100, first_token_ns: 110 },
      { request_id: 'b', status: 'ok', sent_ns: 'x', first_token_ns: 230 },
      { request_id: 'c', status: 'ok', sent_ns: 300, first_token_ns: 330 },
    ]);
    const file = path.join(run, 'raw', 'requests.jsonl');
    const out = tmp('out');
    await expect(runStages({ runDir: run, outDir: out, stageDir: twoStages(), stages: ['base'], log: () => {} })).rejects.toThrow(
      `${file}:2: sent_ns: expected an integer, got "x"`,
    );
    expect(fs.readdirSync(out)).toEqual([]);
    const lines: string[] = [];
    const res = await runStages({ runDir: run, outDir: out, stageDir: twoStages(), stages: ['base'], lenient: true, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(new RegExp(`: skipped 1 malformed line\\(s\\) \\(--lenient\\); the first: .*requests\\.jsonl:2: sent_ns`));
    const cat = await openCatalog({ runDirs: [] });
    try {
      expect(await queryRows(cat.conn, `select * from read_parquet('${res[0]!.output}')`)).toEqual([{ run: 'r1', n: 2, ttft: 40 }]);
    } finally {
      cat.close();
    }
  });

  it('reads several runs together into one output folder', async () => {
    const root = tmp('runs');
    const r1 = makeRun(root, 'r1', [{ request_id: 'a', status: 'ok', sent_ns: 0, first_token_ns: 5 }]);
    const r2 = makeRun(root, 'r2', [
      { request_id: 'a', status: 'ok', sent_ns: 0, first_token_ns: 7 },
      { request_id: 'b', status: 'ok', sent_ns: 0, first_token_ns: 9 },
    ]);
    const out = tmp('out');
    await expect(runStages({ runDirs: [r1, r2], stageDir: twoStages(), log: () => {} })).rejects.toThrow(/outDir/);
    const res = await runStages({ runDirs: [r1, r2], outDir: out, stageDir: twoStages(), stages: ['base'], log: () => {} });
    const cat = await openCatalog({ runDirs: [] });
    try {
      expect(await queryRows(cat.conn, `select * from read_parquet('${res[0]!.output}')`)).toEqual([
        { run: 'r1', n: 1, ttft: 5 },
        { run: 'r2', n: 2, ttft: 16 },
      ]);
    } finally {
      cat.close();
    }
  });
});
