// `servelab moe bench` against the simulated MoE server: records tagged with backend, dataset and
// predicted score, gate logs recorded and ingested per dataset, a bad dataset marked while the
// others go on, and --resume skipping what was measured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openCatalog, queryRows } from '../../../analysis/catalog.ts';
import { startServer, type RunningServer } from '../../../collectors/launchers/index.ts';
import { run as benchCmd } from '../../../collectors/moe/cmd-bench-dataset.ts';
import { readProgress } from '../../../collectors/moe/progress.ts';
import { collectGates } from '../../../collectors/moe/gates.ts';
import { message } from '../../../core/messages.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ kind: 'sim', name: 'baseline', preset: 'moe-baseline', seed: 3 }, { timeoutMs: 60_000 });
}, 70_000);
afterAll(async () => {
  await server?.stop();
});

describe('moe bench', () => {
  it('tags records, ingests gate logs, marks a bad dataset and goes on, resumes', { timeout: 120_000 }, async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-bench-'));
    onTestFinished(() => fs.rmSync(work, { recursive: true, force: true }));
    const ds = path.join(work, 'datasets');
    fs.mkdirSync(ds);
    const line = (p: string) => JSON.stringify({ prompt: p, domain: 'cooking', strategy: 'single_domain' });
    fs.writeFileSync(path.join(ds, '001_0.4000.jsonl'), ['How do I poach an egg?', 'Why did my bread not rise?', 'How long should steak rest?'].map(line).join('\n') + '\n');
    fs.writeFileSync(path.join(ds, '002_0.9000.jsonl'), line('ok') + '\n{"prompt": 7}\n');
    fs.writeFileSync(path.join(ds, '003_0.1000.jsonl'), ['What is entropy?', 'How do tides work?', 'Why is the sky blue?'].map(line).join('\n') + '\n');
    const runDir = path.join(work, 'run');
    const args = [runDir, '--datasets', ds, '--backend', 'baseline', '--base-url', server.url, '--num-prompts', '3', '--output-len', '4', '--resume'];
    let err = '';
    const [o0, e0] = [process.stdout.write, process.stderr.write];
    process.stdout.write = (() => true) as never;
    process.stderr.write = ((s: string) => ((err += s), true)) as never;
    try {
      await expect(benchCmd(args)).rejects.toThrow(/baseline: 1 of 3 dataset\(s\) failed: 002_0\.9000/);
    } finally {
      process.stdout.write = o0;
      process.stderr.write = e0;
    }
    expect(err).toContain(message.moeDatasetFailed(`${path.join(ds, '002_0.9000.jsonl')}:2: prompt: expected a non-empty string, got 7`));
    const progress = readProgress(runDir);
    expect([...progress.values()].map((e) => [e.dataset, e.status])).toEqual([
      ['001_0.4000', 'ok'],
      ['002_0.9000', 'failed'],
      ['003_0.1000', 'ok'],
    ]);
    expect(progress.get('baseline/002_0.9000')!.error).toContain('002_0.9000.jsonl:2: prompt: expected a non-empty string, got 7');
    expect(fs.readdirSync(path.join(runDir, 'raw', 'gates')).sort()).toEqual(['baseline__001_0.4000.jsonl', 'baseline__003_0.1000.jsonl']);

    const cat = await openCatalog({ runDirs: [runDir] });
    try {
      const rows = await queryRows(
        cat.conn,
        `SELECT endpoint, dataset, count(*)::INTEGER AS n, count(DISTINCT request_id)::INTEGER AS ids,
           any_value(json_extract_string(extra, '$.predicted_score')) AS score, any_value(json_extract_string(extra, '$.backend')) AS backend
         FROM requests GROUP BY ALL ORDER BY dataset`,
      );
      expect(rows).toEqual([
        { endpoint: 'baseline', dataset: '001_0.4000', n: 3, ids: 3, score: '0.4', backend: 'baseline' },
        { endpoint: 'baseline', dataset: '003_0.1000', n: 3, ids: 3, score: '0.1', backend: 'baseline' },
      ]);
      const gates = await queryRows(cat.conn, `SELECT DISTINCT regexp_replace(source, '/[^/]*$', '') AS grp FROM gate_loads ORDER BY 1`);
      expect(gates).toEqual([{ grp: 'baseline/001_0.4000' }, { grp: 'baseline/003_0.1000' }]);
    } finally {
      cat.close();
    }

    // Resume: the two measured datasets are skipped, the bad one is retried (and fails again).
    let out = '';
    const [o, e] = [process.stdout.write, process.stderr.write];
    process.stdout.write = ((s: string) => ((out += s), true)) as never;
    process.stderr.write = (() => true) as never;
    try {
      await expect(benchCmd(args)).rejects.toThrow(/1 of 3/);
    } finally {
      process.stdout.write = o;
      process.stderr.write = e;
    }
    expect(out.match(/already measured/g)).toHaveLength(2);
    expect(readProgress(runDir).get('baseline/002_0.9000')!.attempt).toBe(1);
  });

  it('--gates routed: non-streaming requests, one gate-log step per response from routed_experts', { timeout: 120_000 }, async () => {
    const routedServer = await startServer({ kind: 'sim', name: 'routed', preset: 'moe-baseline', seed: 3, returnRoutedExperts: true }, { timeoutMs: 60_000 });
    onTestFinished(() => routedServer.stop().then(() => undefined));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-routed-'));
    onTestFinished(() => fs.rmSync(work, { recursive: true, force: true }));
    const file = path.join(work, '005_0.5000.jsonl');
    fs.writeFileSync(file, ['How do I poach an egg?', 'What is entropy?'].map((p) => JSON.stringify({ prompt: p })).join('\n') + '\n');
    const runDir = path.join(work, 'run');
    const common = ['--dataset', file, '--num-prompts', '2', '--output-len', '3', '--gates', 'routed', '--experts', '8'];
    let err = '';
    const [o0, e0] = [process.stdout.write, process.stderr.write];
    process.stdout.write = (() => true) as never;
    process.stderr.write = ((s: string) => ((err += s), true)) as never;
    try {
      await benchCmd([runDir, ...common, '--backend', 'baseline', '--base-url', routedServer.url]);
      // a server started without the flag: the dataset is measured, its expert loads are not
      await benchCmd([runDir, ...common, '--backend', 'plain', '--base-url', server.url]);
    } finally {
      process.stdout.write = o0;
      process.stderr.write = e0;
    }
    expect(err).toContain(message.moeGatesNotCollected('plain', '005_0.5000', 'no response carried routed_experts: launch vLLM with --enable-return-routed-experts (sim serve takes the same flag)'));
    expect(fs.readdirSync(path.join(runDir, 'raw', 'gate_logs', 'baseline', 'gates_logs_05'))).toEqual(['gate_logs_client.jsonl.gz']); // gzipped once ingested
    const cat = await openCatalog({ runDirs: [runDir] });
    try {
      const reqs = await queryRows(cat.conn, `SELECT endpoint, count(*)::INTEGER AS n, sum(chunks)::INTEGER AS chunks, sum(prompt_tokens_server + output_tokens_server - 1)::INTEGER AS routed FROM requests WHERE status = 'ok' GROUP BY 1 ORDER BY 1`);
      // not streamed: one body per request, no token chunks
      expect(reqs).toEqual([
        { endpoint: 'baseline', n: 2, chunks: 2, routed: expect.any(Number) },
        { endpoint: 'plain', n: 2, chunks: 2, routed: expect.any(Number) },
      ]);
      const steps = await queryRows(
        cat.conn,
        `WITH per AS (SELECT step, layer, sum(tokens) AS routed, any_value(step_tokens) AS step_tokens FROM gate_loads GROUP BY ALL)
         SELECT count(DISTINCT step)::INTEGER AS steps, count(DISTINCT layer)::INTEGER AS layers,
           sum(step_tokens) FILTER (WHERE layer = 0)::INTEGER AS tokens, bool_and(routed = 2 * step_tokens) AS topk
         FROM per`,
      );
      expect(steps).toEqual([{ steps: 2, layers: 32, tokens: reqs[0]!.routed, topk: true }]);
    } finally {
      cat.close();
    }
  });

  it('moves gate logs an instrumented server wrote into the dataset folder', async () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-gsrc-'));
    const dst = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-gdst-')), 'gates_logs_01');
    fs.writeFileSync(path.join(src, 'gate_logs_0.jsonl'), '{"step":0,"layer":0,"num_tokens":1,"expert_counts":[1,0]}\n');
    fs.writeFileSync(path.join(src, 'other.txt'), 'x');
    await collectGates.move(src, dst);
    expect(fs.readdirSync(dst)).toEqual(['gate_logs_0.jsonl']);
    expect(fs.readdirSync(src)).toEqual(['other.txt']);
    await expect(collectGates.move(src, dst)).rejects.toThrow('no gate_logs_* files to collect');
  });
});
