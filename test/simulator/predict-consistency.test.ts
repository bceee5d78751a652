// Self-consistency of the serving model on the built-in simulated server: a run measured
// against `sim serve` and the same requests replayed by `sim predict` differ only by what the
// real clock adds (HTTP, the client's and server's event loops, 2 shared cores, server and
// client on one host). Bound, at moderate load (Qwen3-32B on one H100, 2048-token prompts, 16
// output tokens, 2 requests/s Poisson, ~45 % busy): the median over requests of the signed
// relative difference (predict_summary's bias_*) within 8 % for TTFT and 2 % for TPOT (npm run bench -- predict
// measured -3 to -4 % for TTFT at 1-2 req/s on this host; a host saturated by other work adds its lag).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runStages } from '../../analysis/stages.ts';
import { run as bench } from '../../collectors/cmd-bench.ts';
import { type RunningServer, startServer } from '../../collectors/launchers/index.ts';
import { run as predict } from '../../simulator/cmd-sim-predict.ts';
import { readParquet } from '../helpers/parquet.ts';

export const BOUND = { ttft: 0.08, tpot: 0.02 } as const;

let server: RunningServer;
let data: string;
beforeAll(async () => {
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-selfc-'));
  server = await startServer({ kind: 'sim', name: 'sc', extraArgs: ['--model', 'Qwen3-32B'] }, { timeoutMs: 30_000 });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}, 40_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

describe('sim predict against the simulated server it models', () => {
  it(`median TTFT and TPOT differences stay within ${BOUND.ttft * 100} % and ${BOUND.tpot * 100} % at moderate load`, async () => {
    const code = await bench(['--base-url', server.url, '--data', data, '--run-id', 'sc', '--num-prompts', '30', '--request-rate', '2', '--random-input-len', '2048', '--random-output-len', '16', '--timeout', '30', '--seed', '1']);
    expect(code).toBe(0);
    const dir = path.join(data, 'runs/bench/sc');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    // bench recorded the server's exact config (GET /sim/config): the prediction needs no flags.
    expect(manifest.servers[0]).toMatchObject({ kind: 'sim', config: { model: 'Qwen3-32B', gpu: 'H100' } });
    expect(await predict([dir])).toBe(0);
    const res = await runStages({ runDir: dir, stages: ['predict_summary'], log: () => {} });
    const [s] = await readParquet(res.find((r) => r.stage === 'predict_summary')!.output);
    expect(s!.n).toBe(30);
    const detail = JSON.stringify(s);
    expect(Math.abs(s!.bias_ttft as number), detail).toBeLessThanOrEqual(BOUND.ttft);
    expect(Math.abs(s!.bias_tpot as number), detail).toBeLessThanOrEqual(BOUND.tpot);
  }, 60_000);
});
