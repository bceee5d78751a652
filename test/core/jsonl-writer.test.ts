import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonlWriter } from '../../core/jsonl-writer.ts';
import { createRun } from '../../core/run.ts';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-writer-'));
let n = 0;
const tmp = () => path.join(base, String(n++), 'raw', 'x.jsonl');
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('JsonlWriter', () => {
  it('writes every line byte for byte: multi-byte text, lines longer than the buffer, appends', () => {
    const file = tmp();
    const want: string[] = [];
    for (const round of [0, 1]) {
      const w = new JsonlWriter(file, { maxBufferBytes: 1000 });
      for (let i = 0; i < 2000; i++) {
        const rec = { round, i, s: 'é漢😀'.repeat(i % 40), long: i % 499 === 0 ? 'x'.repeat(5000) : '' };
        want.push(JSON.stringify(rec));
        w.write(rec);
      }
      w.close();
      expect(w.count).toBe(2000);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(want.join('\n') + '\n');
  });

  it('group commit: buffered lines reach the file within the flush interval, without close', async () => {
    const file = tmp();
    const w = new JsonlWriter(file, { flushMs: 20 });
    w.write({ a: 1 });
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    for (let waited = 0; waited < 2000 && fs.readFileSync(file, 'utf8') === ''; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n');
    w.close();
  });

  it('a stalled event loop (no timer tick) cannot hold lines back: the next write flushes a due buffer', () => {
    const file = tmp();
    const w = new JsonlWriter(file, { flushMs: 50 });
    w.write({ a: 1 });
    const until = performance.now() + 80;
    while (performance.now() < until); // the timer cannot fire during this
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    w.write({ a: 2 });
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    const run = createRun({ experiment: 'x', runId: 'stall', dataDir: path.join(base, String(n++)) });
    run.append('requests', { request_id: 'q1' } as never);
    const later = performance.now() + 120; // the default interval is 100 ms
    while (performance.now() < later);
    run.append('requests', { request_id: 'q2' } as never);
    expect(fs.readFileSync(run.rawFile('requests'), 'utf8').trim().split('\n')).toHaveLength(2);
    w.close();
    run.finish('complete');
  });

  it('run append merges run and shard into each line byte for byte (multi-byte text, long lines, empty record)', () => {
    const dataDir = path.join(base, String(n++));
    const run = createRun({ experiment: 'x', runId: 'r-é', dataDir, config: {}, shard: 2 });
    const want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const rec = { request_id: `q${i}`, s: 'é漢😀'.repeat(i % 40), long: i % 997 === 0 ? 'y'.repeat(400_000) : '' };
      want.push(JSON.stringify({ run: 'r-é', shard: 2, ...rec }));
      run.append('requests', rec as never);
    }
    run.append('requests', {} as never);
    want.push('{"run":"r-é","shard":2}');
    run.finish('complete');
    expect(fs.readFileSync(run.rawFile('requests'), 'utf8')).toBe(want.join('\n') + '\n');
  });
});

describe('writeFileAtomic on failure', () => {
  it('leaves no temp file when the rename fails (target is a folder)', async () => {
    const { writeFileAtomic } = await import('../../core/jsonl-writer.ts');
    const fsm = await import('node:fs');
    const os = await import('node:os');
    const pathm = await import('node:path');
    const dir = fsm.mkdtempSync(pathm.join(os.tmpdir(), 'servelab-atomic-'));
    const target = pathm.join(dir, 'out');
    fsm.mkdirSync(target);
    expect(() => writeFileAtomic(target, 'x')).toThrow();
    expect(fsm.readdirSync(dir)).toEqual(['out']);
  });
});
