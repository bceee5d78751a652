import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRun } from '../../core/run.ts';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';

describe('catalog', () => {
  it('reads raw JSONL of an unfinalized run, skipping a torn last line, keeping extra', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-cat-'));
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
});
