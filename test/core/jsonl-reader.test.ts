// Tests of core/jsonl-reader.ts: torn last lines, malformed lines named file:line: field, lenient
// skipping, and the byte scan agreeing with the record reader across read boundaries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonlAll, scanJsonl } from '../../core/jsonl-reader.ts';
import { message } from '../../core/messages.ts';
import { requests } from '../../core/schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-jsonl-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const line = (o: object) => `${JSON.stringify(o)}\n`;
const ok = (id: string, more: object = {}) => ({ run: 'r1', request_id: id, protocol: 'sim', status: 'ok', sent_ns: 100, ...more });
function file(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('JSONL reader', () => {
  it('tolerates and counts a torn last line, and keeps unknown fields in extra', () => {
    const f = file('torn.jsonl', line(ok('a', { rate: 2 })) + '\n' + line(ok('b')) + '{"run":"r1","request_id":"c","sta');
    const { records, stats } = readJsonlAll(requests, f);
    expect(records.map((r) => r.request_id)).toEqual(['a', 'b']);
    expect(records[0]!.extra).toEqual({ rate: 2 });
    expect(records[0]!.phase).toBe('main'); // default filled
    expect(stats).toMatchObject({ records: 2, tornLine: 4, skipped: 0, lines: 4 });
    expect(message.tornLastLine(f, 4)).toBe(`${f}:4: last line is incomplete (torn write); it was skipped`);
    expect(scanJsonl(requests, f)).toMatchObject({ records: 2, tornLine: 4, withExtra: 1 });
  });

  it('stops at a malformed line in the middle with file:line: field: problem', () => {
    const f = file('mid.jsonl', line(ok('a')) + line(ok('b', { status: 'done' })) + line(ok('c')));
    const want = `${f}:2: status: 'done' is not one of ok, http_error, timeout, connection_error, stream_error, cancelled`;
    expect(() => readJsonlAll(requests, f)).toThrow(want);
    expect(() => scanJsonl(requests, f)).toThrow(want);
    const g = file('missing.jsonl', line(ok('a')) + line({ run: 'r1', protocol: 'sim', status: 'ok' }) + line(ok('c')));
    expect(() => scanJsonl(requests, g)).toThrow(`${g}:2: request_id: missing (required VARCHAR: unique within the run)`);
    const h = file('type.jsonl', line(ok('a', { sent_ns: '100' })) + line(ok('b')));
    expect(() => scanJsonl(requests, h)).toThrow(`${h}:1: sent_ns: expected an integer, got "100"`);
  });

  it('reports a JSON syntax error in the middle with its line, not as torn', () => {
    const f = file('syntax.jsonl', line(ok('a')) + '{"run": "r1", oops}\n' + line(ok('c')));
    expect(() => readJsonlAll(requests, f)).toThrow(new RegExp(`^${f.replaceAll('/', '\\/')}:2: invalid JSON: `));
    expect(() => scanJsonl(requests, f)).toThrow(`${f}:2: invalid JSON:`);
  });

  it('skips and counts bad lines under lenient', () => {
    const f = file('lenient.jsonl', line(ok('a')) + 'not json\n' + line(ok('b', { gpu: 1.5 })) + line(ok('c')) + '{"torn');
    const { records, stats } = readJsonlAll(requests, f, { lenient: true });
    expect(records.map((r) => r.request_id)).toEqual(['a', 'c']);
    expect(stats).toMatchObject({ records: 2, skipped: 2, tornLine: 5 });
    expect(stats.problems).toEqual([`${f}:2: invalid JSON: ${stats.problems[0]!.split('invalid JSON: ')[1]}`, `${f}:3: gpu: expected an integer, got number 1.5`]);
    expect(scanJsonl(requests, f, { lenient: true })).toMatchObject({ records: 2, skipped: 2, skippedLines: [2, 3], tornLine: 5 });
  });

  it('an unparseable line followed only by blank lines is still the torn last line, for both readers', () => {
    const f = file('torn-blanks.jsonl', line(ok('a')) + '{"run":"r1","req\n\n  \n');
    expect(readJsonlAll(requests, f).stats).toMatchObject({ records: 1, tornLine: 2, skipped: 0, lines: 4 });
    expect(scanJsonl(requests, f)).toMatchObject({ records: 1, tornLine: 2, skipped: 0, lines: 4 });
  });

  it('reads a last line without newline that is complete', () => {
    const f = file('nonl.jsonl', line(ok('a')) + JSON.stringify(ok('b')));
    expect(readJsonlAll(requests, f).stats).toMatchObject({ records: 2, tornLine: null });
  });

  it('scan agrees with the record reader across read boundaries (lines longer than the read size, blank lines, torn end)', () => {
    const lines = Array.from({ length: 60 }, (_, i) => (i % 7 === 3 ? '\n' : line(ok(`q${i}`, { url: 'é'.repeat(i * 3), ...(i % 11 === 5 ? { rate: i } : {}) }))));
    const f = file('long.jsonl', lines.join('') + '{"run":"r1","req');
    for (const chunkBytes of [7, 64, 1 << 22]) {
      const { stats } = readJsonlAll(requests, f, { chunkBytes });
      expect(stats).toMatchObject({ records: 51, tornLine: 61, lines: 61 });
      expect(scanJsonl(requests, f, { chunkBytes })).toMatchObject({ records: 51, tornLine: 61, lines: 61, withExtra: 4 });
    }
  });
});
