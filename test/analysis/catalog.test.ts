// Tests of analysis/catalog.ts: the DuckDB views over a run's raw JSONL (torn last line skipped,
// a malformed middle line an error or, lenient, skipped and reported; unknown fields kept in
// extra) and over its Parquet once finalized, raw again when resumed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../core/errors.ts';
import { message } from '../../core/messages.ts';
import { createRun } from '../../core/run.ts';
import { isFinalized, openCatalog, queryRows } from '../../analysis/catalog.ts';
import { finalizeRun } from '../../analysis/runstore.ts';

const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('catalog', () => {
  it('reads raw JSONL of an unfinalized run, skipping a torn last line, keeping extra', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-cat-'));
    made.push(data);
    const run = createRun({ experiment: 'demo', runId: 'r1', dataDir: data, config: { rate: 2 } });
    run.append('requests', { request_id: 'a', endpoint: 'e', protocol: 'openai-chat', status: 'ok', sent_ns: 100, first_token_ns: 110, phase: 'main' });
    run.append('requests', { request_id: 'b', endpoint: 'e', protocol: 'openai-chat', status: 'timeout', sent_ns: 200, phase: 'main' });
    run.flush();
    fs.appendFileSync(run.rawFile('requests'), '{"run":"r1","request_id":"c","sta');
    const cat = await openCatalog({ dataDir: data });
    try {
      const rows = await queryRows(cat.conn, 'select request_id, first_token_ns - sent_ns as ttft, status from requests order by 1');
      expect(rows).toEqual([
        { request_id: 'a', ttft: 10, status: 'ok' },
        { request_id: 'b', ttft: null, status: 'timeout' },
      ]);
      const runs = await queryRows(cat.conn, 'select run, experiment, status from runs');
      expect(runs).toEqual([{ run: 'r1', experiment: 'demo', status: 'running' }]);
      const empty = await queryRows(cat.conn, 'select count(*)::INTEGER n from gate_loads');
      expect(empty).toEqual([{ n: 0 }]);
    } finally {
      cat.close();
    }
  });

  it('a malformed line in the middle of raw JSONL fails with file:line: field: problem; lenient skips it and says so', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-cat-'));
    made.push(data);
    const run = createRun({ experiment: 'demo', runId: 'bad', dataDir: data });
    run.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok', sent_ns: 100, first_token_ns: 110 });
    run.flush();
    const file = run.rawFile('requests');
    // A wrong type (DuckDB alone would read it as NULL) and a line that is not JSON, then a good one.
    fs.appendFileSync(file, '{"run":"bad","request_id":"b","protocol":"sim","status":"ok","sent_ns":"soon"}\n{"run":"bad",\n');
    fs.appendFileSync(file, '{"run":"bad","request_id":"d","protocol":"sim","status":"ok","sent_ns":300,"first_token_ns":340}\n');
    fs.appendFileSync(file, '{"run":"bad","request_id":"e","pro'); // and a torn last line
    const err = await openCatalog({ dataDir: data }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(`${file}:2: sent_ns: expected an integer, got "soon"`);
    expect((err as CliError).details.join(' ')).toContain('--lenient');

    const warnings: string[] = [];
    const cat = await openCatalog({ dataDir: data, lenient: true, warn: (l) => warnings.push(l) });
    try {
      expect(warnings).toEqual([message.rawLinesSkipped(file, 2, `${file}:2: sent_ns: expected an integer, got "soon"`)]);
      expect(cat.warnings).toEqual(warnings);
      const rows = await queryRows(cat.conn, 'select request_id, first_token_ns - sent_ns as ttft from requests order by 1');
      expect(rows).toEqual([
        { request_id: 'a', ttft: 10 },
        { request_id: 'd', ttft: 40 },
      ]);
    } finally {
      cat.close();
    }
  });

  it('request_metrics and request_itl give each request the glossary metrics (TTFT, TPOT, E2E, send lag, ITL)', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-cat-'));
    made.push(data);
    const run = createRun({ experiment: 'demo', runId: 'm1', dataDir: data });
    const base = { protocol: 'sim', status: 'ok', phase: 'main' } as const;
    run.append('requests', { ...base, request_id: 'a', scheduled_ns: 90, sent_ns: 100, first_token_ns: 110, last_token_ns: 150, output_tokens: 5, done_ns: 160 });
    run.append('requests', { ...base, request_id: 'b', scheduled_ns: 200, sent_ns: 200, first_token_ns: 230, last_token_ns: 230, output_tokens: 1 });
    run.append('requests', { ...base, request_id: 'c', status: 'timeout', sent_ns: 300 });
    // a's chunks arrive out of idx order in the file; gaps follow idx.
    for (const [idx, t] of [[0, 110], [2, 135], [1, 120], [3, 150]] as const) run.append('chunks', { request_id: 'a', idx, t_ns: t });
    run.append('chunks', { request_id: 'b', idx: 0, t_ns: 230 });
    run.flush();
    const cat = await openCatalog({ dataDir: data });
    try {
      const m = await queryRows(cat.conn, 'select request_id, is_ok, end_ns, ttft_ns, ttft_ms, tpot_ms, e2e_ms, send_lag_ms, user_latency_ms from request_metrics order by 1');
      expect(m).toEqual([
        { request_id: 'a', is_ok: true, end_ns: 160, ttft_ns: 10, ttft_ms: 10 / 1e6, tpot_ms: 40 / 1e6 / 4, e2e_ms: 50 / 1e6, send_lag_ms: 10 / 1e6, user_latency_ms: 60 / 1e6 },
        { request_id: 'b', is_ok: true, end_ns: 230, ttft_ns: 30, ttft_ms: 30 / 1e6, tpot_ms: null, e2e_ms: 30 / 1e6, send_lag_ms: 0, user_latency_ms: 30 / 1e6 },
        { request_id: 'c', is_ok: false, end_ns: null, ttft_ns: null, ttft_ms: null, tpot_ms: null, e2e_ms: null, send_lag_ms: null, user_latency_ms: null },
      ]);
      const itl = await queryRows(cat.conn, 'select request_id, chunks, itl_ns from request_itl order by 1');
      expect(itl).toEqual([
        { request_id: 'a', chunks: 4, itl_ns: [10, 15, 15] },
        { request_id: 'b', chunks: 1, itl_ns: [] },
      ]);
    } finally {
      cat.close();
    }
  });

  it('reads a finalized run from its Parquet (not raw), and a resumed run from raw again', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-cat-'));
    made.push(data);
    const run = createRun({ experiment: 'demo', runId: 'f1', dataDir: data });
    run.append('requests', { request_id: 'a', protocol: 'sim', status: 'ok', ...{ gpu_name: 'H100' } });
    run.finish('complete');
    await finalizeRun(run.dir);
    expect(isFinalized(run.dir)).toBe(true);
    // A line added to raw after finalize is not seen: the view reads requests.parquet.
    fs.appendFileSync(run.rawFile('requests'), '{"run":"f1","request_id":"late","protocol":"sim","status":"ok"}\n');
    const q = 'select request_id, extra from requests order by 1';
    let cat = await openCatalog({ dataDir: data });
    expect(await queryRows(cat.conn, q)).toEqual([{ request_id: 'a', extra: '{"gpu_name":"H100"}' }]);
    cat.close();
    const again = createRun({ experiment: 'demo', runId: 'f1', dataDir: data, resume: true });
    expect(isFinalized(again.dir)).toBe(false);
    cat = await openCatalog({ dataDir: data });
    expect((await queryRows(cat.conn, q)).map((r) => r.request_id)).toEqual(['a', 'late']);
    expect(await queryRows(cat.conn, 'select status from runs')).toEqual([{ status: 'running' }]);
    cat.close();
    again.finish('complete'); // finished but not finalized again: still read from raw
    expect(isFinalized(again.dir)).toBe(false);
  });
});
