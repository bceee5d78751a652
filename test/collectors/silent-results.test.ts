// Inputs that used to give silently wrong numbers: a BIGINT beyond 2^53 (read as NULL), negative
// *_ns, duplicate request ids, a manifest without a status, a run folder whose manifest was
// deleted, and the bench summary listing HTTP errors twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../analysis/catalog.ts';
import { finalizeRun, readManifest } from '../../analysis/runstore.ts';
import { summaryText } from '../../collectors/summary.ts';
import { readJsonlAll, scanJsonl } from '../../core/jsonl-reader.ts';
import { createRun } from '../../core/run.ts';
import { tables } from '../../core/schema.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-silent-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const file = (lines: string[]) => {
  const f = path.join(root, `f${n++}.jsonl`);
  fs.writeFileSync(f, lines.map((l) => `${l}\n`).join(''));
  return f;
};
const ok = '{"run":"r","request_id":"a","protocol":"sim","status":"ok","sent_ns":5}';

describe('records', () => {
  it('sent_ns 2**70 is an error at its line, on the fast and the exact path', () => {
    const f = file([ok, '{"run":"r","request_id":"b","protocol":"sim","status":"ok","sent_ns":1180591620717411303424}']);
    expect(() => scanJsonl(tables.requests, f)).toThrow(`${f}:2: sent_ns: 1.1805916207174113e+21 is beyond ±2^53`);
    expect(() => readJsonlAll(tables.requests, f)).toThrow(`${f}:2: sent_ns`);
    const g = file([ok, '{"run": "r", "request_id": "b", "protocol": "sim", "status": "ok", "sent_ns": 9007199254740993}']);
    expect(() => scanJsonl(tables.requests, g)).toThrow(`${g}:2: sent_ns`);
  });

  it('a negative *_ns is an error; other negative integers are not', () => {
    const f = file([ok, '{"run":"r","request_id":"b","protocol":"sim","status":"ok","first_token_ns":-3}']);
    expect(() => scanJsonl(tables.requests, f)).toThrow(`${f}:2: first_token_ns: -3 is negative`);
    const t = file(['{"run":"r","request_id":"a","idx":0,"t_ns":-1}']);
    expect(() => scanJsonl(tables.chunks, t)).toThrow(`${t}:1: t_ns: -1 is negative`);
  });

  it('a request id seen twice stops finalize, naming both lines', async () => {
    const r = createRun({ experiment: 'e', runId: 'dup', dataDir: path.join(root, 'a') });
    r.append('requests', { request_id: 'q1', protocol: 'sim', status: 'ok' });
    r.append('requests', { request_id: 'q2', protocol: 'sim', status: 'ok' });
    r.append('requests', { request_id: 'q1', protocol: 'sim', status: 'ok' });
    r.finish('complete');
    const raw = r.rawFile('requests');
    await expect(finalizeRun(r.dir)).rejects.toThrow(`${raw}:3: request_id: "q1" (shard 0) appears again (first at ${raw}:1)`);
    expect(fs.existsSync(path.join(r.dir, 'requests.parquet'))).toBe(false);
  });
});

describe('manifests', () => {
  it('a manifest {} is an error naming status and its choices (repair never writes "status undefined")', async () => {
    const dir = path.join(root, 'm', 'runs', 'e', 'empty');
    fs.mkdirSync(path.join(dir, 'raw'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
    expect(() => readManifest(dir)).toThrow(`${path.join(dir, 'manifest.json')}: status: missing: one of running, complete, incomplete, failed`);
    await expect(finalizeRun(dir, { repair: true })).rejects.toThrow('status: missing');
    expect(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')).toBe('{}');
  });

  it('a run folder whose manifest was deleted stops the catalog instead of vanishing from it', async () => {
    const data = path.join(root, 'd');
    const r = createRun({ experiment: 'e', runId: 'gone', dataDir: data });
    r.append('requests', { request_id: 'q1', protocol: 'sim', status: 'ok' });
    r.finish('complete');
    fs.rmSync(path.join(r.dir, 'manifest.json'));
    await expect(openCatalog({ dataDir: data, warn: () => {} })).rejects.toThrow(`${r.dir}: run data without manifest.json`);
  });
});

describe('bench summary', () => {
  it('lists each failed request once: HTTP errors by status, rows adding up to the failed count', () => {
    const text = summaryText({ completed: 1, failed: 89, errors: { http_error: 29, http_500: 29, timeout: 50, connection_error: 10, contention: 50 } }, [], []);
    const rows = [...text.matchAll(/^(\S.*?)\s{2,}(\d+)\s*$/gm)].filter((m) => /http_error|timeout|connection_error/.test(m[1]!));
    expect(rows.map((m) => m[1]!.trim())).toEqual(['http_error (HTTP 500)', 'timeout', 'connection_error']);
    expect(rows.reduce((a, m) => a + Number(m[2]), 0)).toBe(89);
  });
});
