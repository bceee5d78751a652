// `servelab sql` over stage outputs: a view per stage named after it (built into each run's
// derived/ when stale), --describe with units, gate_load_groups' backend and dataset, and an
// Arrow IPC file that a separate process reads back.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as sql } from '../../analysis/cmd-sql.ts';
import { reportError } from '../../core/cli.ts';
import { captureOutput } from '../helpers/capture.ts';
import { TEST_ROOT, inputDir } from '../helpers/golden.ts';

async function capture(...argv: string[]) {
  const { value: code, stdout, stderr } = await captureOutput(() => sql(argv).catch(reportError));
  return { code, stdout, stderr };
}

let data: string;
let moeRun: string;
beforeAll(() => {
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-sql-stages-'));
  moeRun = path.join(data, 'runs', 'moe', 'golden');
  const noDerived = (f: string) => !f.includes(`${path.sep}derived`);
  fs.cpSync(inputDir('moe-bench-run'), moeRun, { recursive: true, filter: noDerived });
  fs.cpSync(path.join(TEST_ROOT, '..', 'data/samples/runs/latency/sample-001'), path.join(data, 'runs', 'latency', 'sample-001'), { recursive: true, filter: noDerived });
});
afterAll(() => fs.rmSync(data, { recursive: true, force: true }));

describe('servelab sql stage views', () => {
  it('answers select * from moe_cv, building the stage into the run first', async () => {
    const r = await capture('select backend, dataset, per_step_cv from moe_cv order by backend, dataset', '--data', data, '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { backend: string; dataset: string; per_step_cv: number }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => typeof x.per_step_cv === 'number')).toBe(true);
    expect(fs.existsSync(path.join(moeRun, 'derived', 'moe_cv.parquet'))).toBe(true);
    // A stage over several runs: each run's rows, by run.
    const s = await capture('select run, count(*) n from latency_summary group by run order by run', '--data', data, '--format', 'csv');
    expect(s.stdout).toContain('sample-001,4');
  });

  it('gives gate_load_groups backend and dataset columns', async () => {
    const r = await capture("select distinct grp, backend, dataset from gate_load_groups where len(string_split(source, '/')) >= 3 order by grp limit 1", '--data', data, '--format', 'json');
    const [row] = JSON.parse(r.stdout) as { grp: string; backend: string; dataset: string }[];
    expect(row).toBeDefined();
    expect(`${row!.backend}/${row!.dataset}`).toBe(row!.grp);
  });

  it('--describe lists every view; --describe VIEW its columns with units; --help names them all', async () => {
    const all = await capture('--describe', '--data', data);
    for (const v of ['requests', 'gate_load_groups', 'request_metrics', 'moe_cv', 'latency_summary', 'schedule_comparison']) expect(all.stdout).toMatch(new RegExp(`^${v} `, 'm'));
    const one = await capture('--describe', 'latency_summary', '--data', data);
    expect(one.stdout).toMatch(/^ttft_ms_p50\s+DOUBLE\s+ms\b/m);
    expect(one.stdout).toMatch(/^duration_s\s+DOUBLE\s+s\b/m);
    const bad = await capture('--describe', 'moe_cvv', '--data', data);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/view 'moe_cvv' is not one of .*\(did you mean 'moe_cv'\?\)/);
    const help = await capture('--help');
    for (const v of ['gate_load_groups', 'moe_cv', 'moe_correlation', 'latency_summary', 'schedule_gantt']) expect(help.stdout).toContain(v);
  });

  it('writes an Arrow IPC file that another process reads back', async () => {
    const out = path.join(data, 'summary.arrow');
    const r = await capture("select endpoint, phase, requests, ttft_ms_p50, output_tokens from latency_summary where run = 'sample-001' order by endpoint, phase", '--data', data, '--format', 'arrow', '--out', out);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out).subarray(0, 6).toString()).toBe('ARROW1');
    const script = `import { tableFromIPC } from 'apache-arrow'; import fs from 'node:fs';
const t = tableFromIPC(fs.readFileSync(process.argv[1]));
console.log(JSON.stringify({ rows: t.numRows, fields: t.schema.fields.map((f) => f.name + ':' + f.type), first: t.get(0).toJSON() }, (k, v) => typeof v === 'bigint' ? Number(v) : v));`;
    const text = execFileSync(process.execPath, ['--input-type=module', '-e', script, out], { cwd: path.join(TEST_ROOT, '..'), encoding: 'utf8' });
    const got = JSON.parse(text) as { rows: number; fields: string[]; first: Record<string, unknown> };
    expect(got.rows).toBe(4);
    expect(got.fields).toEqual(['endpoint:Utf8', 'phase:Utf8', 'requests:Int64', 'ttft_ms_p50:Float64', 'output_tokens:Int64']);
    const csv = await capture("select endpoint, phase, requests from latency_summary where run = 'sample-001' order by endpoint, phase limit 1", '--data', data, '--format', 'csv');
    const [endpoint, phase, requests] = csv.stdout.trim().split('\n')[1]!.split(',');
    expect(got.first).toMatchObject({ endpoint, phase, requests: Number(requests) });
    expect((await capture('select 1', '--data', data, '--format', 'arrow')).stderr).toContain('--format arrow needs --out FILE');
  });
});
