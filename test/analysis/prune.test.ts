// `runs prune`: raw gate loads of a finalized run go once its Parquet is verified; the rows stay
// readable, a later finalize (after a resume) keeps them and adds the new ones; an unfinalized run
// or one whose Parquet disagrees with the recorded count is left alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { run as runs } from '../../analysis/cmd-runs.ts';
import { finalizeRun, pruneRun } from '../../analysis/runstore.ts';
import { reportError } from '../../core/cli.ts';
import { createRun } from '../../core/run.ts';
import { captureOutput } from '../helpers/capture.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-prune-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function gateRun(data: string, id: string, steps: number) {
  const r = createRun({ experiment: 'moe', runId: id, dataDir: data });
  r.append('requests', { request_id: 'q', protocol: 'sim', status: 'ok' });
  for (let s = 0; s < steps; s++) for (let e = 0; e < 4; e++) r.append('gate_loads', { source: 'a/x', step: s, layer: 0, expert: e, tokens: e, step_tokens: 6 }, 'a__x');
  r.finish('complete');
  return r;
}

async function gateRows(data: string): Promise<number> {
  const cat = await openCatalog({ dataDir: data, warn: () => {} });
  try {
    return (await queryRows(cat.conn, 'select count(*)::INTEGER n from gate_loads'))[0]!.n as number;
  } finally {
    cat.close();
  }
}

describe('runs prune', () => {
  it('removes the raw gate loads of a verified finalized run; the rows stay; resume + finalize adds to them', async () => {
    const data = path.join(root, 'a');
    const r = gateRun(data, 'r1', 5);
    const raw = r.rawFile('gate_loads', 'a__x');
    expect((await pruneRun(r.dir)).skipped).toMatch(/not finalized/);
    expect(fs.existsSync(raw)).toBe(true);
    await finalizeRun(r.dir);
    const dry = await captureOutput(() => runs(['prune', 'moe/r1', '--data', data, '--dry-run']).catch(reportError));
    expect(dry.stdout).toContain('would remove');
    expect(fs.existsSync(raw)).toBe(true);
    const out = await captureOutput(() => runs(['prune', 'moe/r1', '--data', data]).catch(reportError));
    expect(out.value).toBe(0);
    expect(out.stdout).toContain('raw/gates/a__x.jsonl');
    expect(fs.existsSync(raw)).toBe(false);
    expect(fs.existsSync(r.rawFile('requests'))).toBe(true); // only gate loads without --all
    expect(JSON.parse(fs.readFileSync(path.join(r.dir, 'manifest.json'), 'utf8')).extra.pruned).toEqual(['gate_loads']);
    expect(await gateRows(data)).toBe(20);
    // resume: 2 more steps, finalize again: 20 kept + 8 new
    const again = createRun({ experiment: 'moe', runId: 'r1', dataDir: data, resume: true });
    for (let e = 0; e < 4; e++) again.append('gate_loads', { source: 'a/y', step: 0, layer: 0, expert: e, tokens: 1, step_tokens: 4 }, 'a__y');
    for (let e = 0; e < 4; e++) again.append('gate_loads', { source: 'a/y', step: 1, layer: 0, expert: e, tokens: 1, step_tokens: 4 }, 'a__y');
    again.finish('complete');
    expect(await gateRows(data)).toBe(28); // resumed, not yet finalized: pruned rows from Parquet, new ones raw
    const f = await finalizeRun(r.dir);
    expect(f.tables.find((t) => t.table === 'gate_loads')?.records).toBe(28);
    expect(await gateRows(data)).toBe(28);
    // and a finalize with nothing new keeps the 28
    await pruneRun(r.dir);
    expect((await finalizeRun(r.dir)).tables.find((t) => t.table === 'gate_loads')?.records).toBe(28);
  });

  it('leaves a run alone when its Parquet disagrees with the recorded count', async () => {
    const data = path.join(root, 'b');
    const r = gateRun(data, 'r2', 2);
    await finalizeRun(r.dir);
    const m = JSON.parse(fs.readFileSync(path.join(r.dir, 'manifest.json'), 'utf8'));
    m.counts.gate_loads = 99;
    fs.writeFileSync(path.join(r.dir, 'manifest.json'), JSON.stringify(m));
    expect((await pruneRun(r.dir)).skipped).toBe('gate_loads.parquet holds 8 rows but finalize recorded 99');
    expect(fs.existsSync(r.rawFile('gate_loads', 'a__x'))).toBe(true);
  });
});
