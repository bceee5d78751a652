// Tests of the record contract (core/schema.ts): generated DDL/JSON Schema up to date, run/shard/
// extra on every table, unit- and clock-named time fields, and normalizeRecord's errors.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generatedFiles } from '../../core/schema-gen.ts';
import { requests, tables } from '../../core/schema.ts';
import { normalizeRecord } from '../../core/validate.ts';

describe('record contract', () => {
  it('committed DDL and JSON Schema match the TypeScript definitions', () => {
    for (const [name, content] of Object.entries(generatedFiles())) {
      const file = path.join(GENERATED_DIR, name);
      expect(fs.existsSync(file), `${file} is missing: run npm run gen:schema`).toBe(true);
      expect(fs.readFileSync(file, 'utf8'), `${name} drifted from core/schema.ts: run npm run gen:schema`).toBe(content);
    }
  });

  it('every table carries run, shard (except the manifest) and extra', () => {
    for (const t of Object.values(tables)) {
      expect(Object.keys(t.fields)).toContain('run');
      expect(Object.keys(t.fields)).toContain('extra');
      if (t.name !== 'runs') expect(Object.keys(t.fields)).toContain('shard');
    }
  });

  it('time fields name their unit and clock', () => {
    for (const t of Object.values(tables)) {
      for (const name of Object.keys(t.fields)) {
        if (/(_time|_at|_ts|timestamp)$/.test(name)) throw new Error(`${t.name}.${name} has no unit suffix`);
      }
    }
  });

  const where = { file: 'raw/requests.jsonl', line: 7 };
  const base = { run: 'r1', request_id: 'q1', protocol: 'openai-chat', status: 'ok' };

  it('keeps unknown fields in extra and fills defaults', () => {
    const rec = normalizeRecord(requests, { ...base, sent_ns: 100, colour: 'blue' }, where);
    expect(rec.extra).toEqual({ colour: 'blue' });
    expect(rec.shard).toBe(0);
    expect(rec.phase).toBe('main');
    expect(rec.first_token_ns).toBeNull();
  });

  it('names file, line and field on a wrong type, a bad enum and a missing field', () => {
    expect(() => normalizeRecord(requests, { ...base, sent_ns: 'soon' }, where)).toThrow(
      'raw/requests.jsonl:7: sent_ns: expected an integer, got "soon"',
    );
    expect(() => normalizeRecord(requests, { ...base, status: 'fine' }, where)).toThrow(
      "raw/requests.jsonl:7: status: 'fine' is not one of ok, http_error, timeout, connection_error, stream_error, cancelled",
    );
    const { request_id: _, ...noId } = base;
    expect(() => normalizeRecord(requests, noId, where)).toThrow('raw/requests.jsonl:7: request_id: missing');
  });
});
