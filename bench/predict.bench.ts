// `servelab sim predict` benchmark. (1) Wall and peak RSS of predicting a finalized
// 1,000,000-request run (made by `sim run`, 8 Llama-3-8B replicas on H100 at ~80 % load; its
// manifest then names a simulated server of 8 GPUs): target ≤ 20 s and ≤ 2 GB, as `sim run`.
// (2) Self-consistency drift: runs against `sim serve` at several loads, each replayed by
// `sim predict`; prints predict_summary's median differences. 2 shared cores, server and client
// on one host. PREDICT_BENCH_REQUESTS=N for a smaller run; PREDICT_BENCH_SKIP=drift|big to skip a part.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStages } from '../analysis/stages.ts';
import { startServer } from '../collectors/launchers/index.ts';
import { queryRows, sqlQuote } from '../analysis/catalog.ts';
import { openDuckDB } from '../analysis/runstore.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin/servelab.js');
const N = Number(process.env.PREDICT_BENCH_REQUESTS ?? 1_000_000);
const skip = process.env.PREDICT_BENCH_SKIP ?? '';
async function readParquetRows(file: string): Promise<Record<string, unknown>[]> {
  const db = await openDuckDB();
  try {
    return await queryRows(db.conn, `SELECT * FROM read_parquet(${sqlQuote(file)})`);
  } finally {
    db.close();
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-predict-bench-'));

function servelab(args: string[], timed = false): { wall: number; rssMB: number; out: string } {
  const argv = timed ? ['-f', '%e %M', process.execPath, cli, ...args] : [cli, ...args];
  const r = spawnSync(timed ? '/usr/bin/time' : process.execPath, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`servelab ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  if (!timed) return { wall: 0, rssMB: 0, out: r.stdout };
  const [wall, kb] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall: wall!, rssMB: kb! / 1024, out: r.stdout };
}

try {
  if (!skip.includes('big')) {
    const dir = path.join(tmp, 'big');
    // ~80 % of 8 replicas' capacity (engine.bench.ts's calibration: ~10 req/s per replica at these lengths).
    const g0 = performance.now();
    servelab(['sim', 'run', '--replicas', '8', '--rate', '64', '--num-requests', String(N), '--out', dir, '--no-gates']);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.servers = [{ kind: 'sim', name: 'default', config: { model: 'Llama-3-8B', gpu: 'H100', gpus: 8, tp: 1, ep: 1, routing: 'round-robin', maxNumSeqs: 1024, maxNumBatchedTokens: 8192 } }];
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    servelab(['runs', 'finalize', dir]);
    console.log(`made a finalized ${N.toLocaleString('en-US')}-request run in ${((performance.now() - g0) / 1000).toFixed(1)} s (not timed below)`);
    const p = servelab(['sim', 'predict', dir], true);
    process.stdout.write(p.out);
    console.log(`sim predict, ${N.toLocaleString('en-US')} requests: wall ${p.wall.toFixed(1)} s (target ≤ 20 s), peak RSS ${p.rssMB.toFixed(0)} MB (target ≤ 2048 MB)`);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  if (!skip.includes('drift')) {
    console.log('\nself-consistency drift: sim serve (Qwen3-32B, 1 H100) measured by servelab bench, replayed by sim predict');
    console.log('(2 shared cores, server and client on one host; 2048-token prompts, 16 output tokens, 30 requests per load, Poisson)');
    console.log('rate_rps  ttft_p50_meas_ms  ttft_p50_pred_ms  ttft_bias  ttft_med_abs  tpot_p50_meas_ms  tpot_p50_pred_ms  tpot_bias  tpot_med_abs  thr_err');
    const server = await startServer({ kind: 'sim', name: 'drift', extraArgs: ['--model', 'Qwen3-32B'] }, { timeoutMs: 30_000 });
    try {
      for (const rate of [1, 2, 3, 4]) {
        const id = `r${rate}`;
        servelab(['bench', '--base-url', server.url, '--data', tmp, '--run-id', id, '--num-prompts', '30', '--request-rate', String(rate), '--random-input-len', '2048', '--random-output-len', '16', '--seed', '1']);
        const dir = path.join(tmp, 'runs/bench', id);
        servelab(['sim', 'predict', dir]);
        const res = await runStages({ runDir: dir, stages: ['predict_summary'], log: () => {} });
        const [s] = await readParquetRows(res.find((r) => r.stage === 'predict_summary')!.output);
        const pct = (x: unknown) => `${(100 * Number(x)).toFixed(1)}%`.padStart(9);
        const ms = (x: unknown) => Number(x).toFixed(2).padStart(16);
        console.log(
          `${String(rate).padStart(8)}  ${ms(s!.ttft_p50_ms_measured)}  ${ms(s!.ttft_p50_ms_predicted)}  ${pct(s!.bias_ttft)}  ${pct(s!.ttft_med_abs_err).padStart(12)}  ` +
            `${ms(s!.tpot_p50_ms_measured)}  ${ms(s!.tpot_p50_ms_predicted)}  ${pct(s!.bias_tpot)}  ${pct(s!.tpot_med_abs_err).padStart(12)}  ${pct(s!.throughput_err)}`,
        );
      }
    } finally {
      await server.stop();
    }
    console.log('bias = median over requests of (predicted − measured) / measured (< 0: the real-clock server is slower than its model)');
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
