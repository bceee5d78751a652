// Tests of run finalization (analysis/runstore.ts): Parquet with the contract types, bad and torn
// lines, refusing a running run, and a writer killed with -9 whose run `runs repair` finalizes.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { finalizeRun, listRuns, readManifest, resolveRun } from '../../analysis/runstore.ts';
import { CliError } from '../../core/errors.ts';
import { readJsonlAll } from '../../core/jsonl-reader.ts';
import { message } from '../../core/messages.ts';
import { createRun } from '../../core/run.ts';
import { requests, tables } from '../../core/schema.ts';

const root = path.resolve(import.meta.dirname, '../..');
const made: string[] = [];
const tmp = () => made[made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-runs-'))) - 1]!;
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function parquet(file: string, sql: string) {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql.replaceAll('$f', `'${file}'`))).getRowObjectsJson();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(root, 'bin/servelab.js'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, SERVELAB_DATA: '/nonexistent' } });
}

describe('finalize', () => {
  it('writes Parquet with the contract types, keeps extra, counts torn lines, leaves no temp files', async () => {
    const data = tmp();
    const run = createRun({ experiment: 'demo', runId: 'r1', dataDir: data });
    run.append('requests', { request_id: 'a', protocol: 'openai-chat', status: 'ok', sent_ns: 100, first_token_ns: 110, token_mismatch: false, server_ttft_s: 0.5, server_timings: { n: 1 }, prompt_words: 3, ...{ rate: 2 } });
    run.append('requests', { request_id: 'b', protocol: 'openai-chat', status: 'timeout', phase: 'warmup', sent_ns: 2 ** 40 });
    run.append('chunks', { request_id: 'a', idx: 0, t_ns: 110, tokens: 1 });
    run.append('gate_loads', { source: 'rank0', step: 1, layer: 0, expert: 3, tokens: 7, step_tokens: 20 });
    run.finish('complete');
    fs.appendFileSync(run.rawFile('chunks'), '{"run":"r1","request_id":"a","idx":1,"t_');
    const r = await finalizeRun(run.dir);
    expect(r.tables.map((t) => [t.table, t.records, t.torn.length, t.path])).toEqual([
      ['chunks', 1, 1, 'typed'],
      ['gate_loads', 1, 0, 'typed'],
      ['requests', 2, 0, 'objects'],
    ]);
    for (const t of [tables.chunks, tables.gate_loads]) {
      const cols = await parquet(path.join(run.dir, `${t.name}.parquet`), 'describe select * from $f');
      expect(cols.map((c) => [c.column_name, c.column_type])).toEqual(Object.entries(t.fields).map(([n, f]) => [n, f.type]));
    }
    expect(await parquet(path.join(run.dir, 'gate_loads.parquet'), 'select source, step, expert, tokens, extra from $f')).toEqual([
      { source: 'rank0', step: '1', expert: 3, tokens: '7', extra: null },
    ]);
    expect(r.warnings).toEqual([message.tornLastLine('raw/chunks.jsonl', 2)]);
    const f = path.join(run.dir, 'requests.parquet');
    const types = Object.fromEntries((await parquet(f, 'describe select * from $f')).map((c) => [c.column_name, c.column_type]));
    for (const [name, field] of Object.entries(requests.fields)) expect([name, types[name]]).toEqual([name, field.type]);
    const rows = await parquet(f, 'select request_id, phase, shard, sent_ns, first_token_ns - sent_ns ttft, server_timings, extra from $f order by 1');
    expect(rows).toEqual([
      { request_id: 'a', phase: 'main', shard: 0, sent_ns: '100', ttft: '10', server_timings: '{"n":1}', extra: '{"rate":2}' },
      { request_id: 'b', phase: 'warmup', shard: 0, sent_ns: String(2 ** 40), ttft: null, server_timings: null, extra: null },
    ]);
    const m = readManifest(run.dir);
    expect(m.status).toBe('complete');
    expect(m.counts).toMatchObject({ requests: 2, chunks: 1, gate_loads: 1, torn_lines: 1, skipped_lines: 0 });
    expect(fs.readdirSync(run.dir).sort()).toEqual(['.finalized', 'chunks.parquet', 'gate_loads.parquet', 'manifest.json', 'raw', 'requests.parquet', 'runs.parquet']);
    expect(await parquet(path.join(run.dir, 'runs.parquet'), 'select run, status from $f')).toEqual([{ run: 'r1', status: 'complete' }]);
  });

  it('stops on a bad line in the middle (no parquet left), and --lenient skips it', async () => {
    const data = tmp();
    const run = createRun({ experiment: 'demo', runId: 'bad', dataDir: data });
    run.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok' });
    run.flush();
    fs.appendFileSync(run.rawFile('requests'), '{"run":"bad","request_id":"b","protocol":"sim","status":"ok","gpu":"zero"}\n');
    run.append('requests', { request_id: 'c', protocol: 'sim', status: 'ok' });
    run.finish('complete');
    const file = run.rawFile('requests');
    await expect(finalizeRun(run.dir)).rejects.toThrow(`${file}:2: gpu: expected an integer, got "zero"`);
    expect(fs.readdirSync(run.dir).filter((f) => f !== 'raw' && f !== 'manifest.json')).toEqual([]);
    const r = await finalizeRun(run.dir, { lenient: true });
    expect(r.tables[0]).toMatchObject({ table: 'requests', records: 2, skipped: 1, path: 'cleaned' });
    expect(await parquet(path.join(run.dir, 'requests.parquet'), 'select request_id from $f order by 1')).toEqual([{ request_id: 'a' }, { request_id: 'c' }]);
    expect(readManifest(run.dir).counts).toMatchObject({ requests: 2, skipped_lines: 1 });
  });

  it('refuses a running run, and names close matches for an unknown one', async () => {
    const data = tmp();
    const run = createRun({ experiment: 'demo', runId: '20261123-0100-abcd', dataDir: data });
    await expect(finalizeRun(run.dir)).rejects.toThrow(message.runStillRunning('20261123-0100-abcd'));
    await expect(finalizeRun(run.dir, { repair: true })).rejects.toThrow(message.writerAlive('20261123-0100-abcd', process.pid));
    expect(resolveRun('20261123-0100-abcd', data)).toBe(run.dir);
    expect(resolveRun('demo/20261123-0100-abcd', data)).toBe(run.dir);
    try {
      resolveRun('20261123-0100-abce', data);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).message).toBe(`run '20261123-0100-abce' not found under ${data}`);
      expect((err as CliError).details).toEqual([
        'close matches: demo/20261123-0100-abcd',
        'give a run folder, a run id or experiment/run-id (servelab runs ls lists them), or --data DIR for another archive',
      ]);
    }
    expect(() => listRuns(path.join(data, 'nope'))).toThrow(message.noDataDir(path.join(data, 'nope')));
  });
});

describe('kill -9 a writer mid-run', () => {
  it('keeps every record flushed before the kill, and runs repair finalizes the run as incomplete', async () => {
    const data = tmp();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/analysis/runs-writer-child.ts'), data, 'k1'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let flushed = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child flushed only ${flushed} records`)), 30_000);
      child.stdout!.setEncoding('utf8').on('data', (text: string) => {
        for (const m of text.matchAll(/flushed (\d+)/g)) flushed = Number(m[1]);
        if (flushed >= 1000 && !child.killed) {
          child.kill('SIGKILL');
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(await exited).toBe('SIGKILL');
    const dir = path.join(data, 'runs', 'kill', 'k1');
    fs.appendFileSync(path.join(dir, 'raw', 'requests.jsonl'), '{"run":"k1","shard":0,"request_id":"torn'); // a write cut short
    const { records, stats } = readJsonlAll(tables.requests, path.join(dir, 'raw', 'requests.jsonl'));
    expect(stats.tornLine).not.toBeNull();
    expect(records.length).toBeGreaterThanOrEqual(flushed);
    expect(records.slice(0, flushed).map((r) => r.request_id)).toEqual(Array.from({ length: flushed }, (_, i) => `q${i}`));
    expect(readManifest(dir).status).toBe('running');

    const res = cli('runs', 'repair', 'k1', '--data', data);
    expect(res.stderr).toContain(message.tornLastLine('raw/requests.jsonl', records.length + 1));
    expect(res.status).toBe(0);
    expect(res.stdout).toContain(message.repaired('k1'));
    const m = readManifest(dir);
    expect(m.status).toBe('incomplete');
    expect(m.counts).toMatchObject({ requests: records.length, torn_lines: 1 });
    expect(await parquet(path.join(dir, 'requests.parquet'), 'select count(*)::int n, count(extra)::int x from $f')).toEqual([{ n: records.length, x: records.length }]);
    expect(listRuns(data).map((r) => [r.run, r.manifest.status, r.finalized])).toEqual([['k1', 'incomplete', true]]);
  });
});
