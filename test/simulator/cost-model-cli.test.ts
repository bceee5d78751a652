// Tests of `servelab sim explain | fit | models | gpus`: their output, help with examples, and
// errors that name the bad value and the choices.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../core/errors.ts';
import { run } from '../../simulator/cmd-sim.ts';
import { createCostModel, decodeShape } from '../../simulator/cost-model.ts';
import { getGpu } from '../../simulator/hardware.ts';
import { getModel } from '../../simulator/models.ts';

async function sim(...argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await run(argv, (s) => lines.push(s));
  return { code, text: lines.join('\n') };
}

describe('servelab sim (explain, fit, models, gpus)', () => {
  it('explain prints the per-op table, bottleneck and memory plan', async () => {
    const r = await sim('explain', '--model', 'Llama-3-8B', '--gpu', 'H100', '--tp', '1', '--prefill', '2048', '--decode', '64', '--ctx', '2048');
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/gate_up_proj +32 /);
    expect(r.text).toMatch(/bottleneck: compute/);
    expect(r.text).toMatch(/26162 blocks of 16 tokens/);
    const j = JSON.parse((await sim('explain', '--model', 'Llama-3-70B', '--tp', '4', '--decode', '64', '--ctx', '2048', '--json')).text);
    const cm = createCostModel({ gpu: getGpu('H100'), model: getModel('Llama-3-70B'), tp: 4 });
    expect(j.seconds).toBe(cm.stepTime(decodeShape(64, 2048)).seconds);
  });

  it('explain lists each term with its source (measured or prior); --eager adds the launch term', async () => {
    const graph = await sim('explain', '--model', 'Llama-3-8B', '--gpu', 'H100', '--decode', '1', '--ctx', '512');
    expect(graph.text).toMatch(/terms \(measured or prior\):/);
    expect(graph.text).toMatch(/ops\.gemm_qkv +etaFlop [\d.]+, etaMem [\d.]+, latency [\d.]+ µs +measured \(shared\/calibration\/h100-kernels\.csv\)/);
    expect(graph.text).toMatch(/overhead +per layer 32 µs.* +prior/);
    expect(graph.text).not.toMatch(/^launch /m);
    const tp = await sim('explain', '--model', 'Llama-3-8B', '--tp', '2', '--decode', '8');
    expect(tp.text).toMatch(/comm\.allreduce +alpha 30 µs, bw fraction 0\.811 +prior/);
    const j = (args: string[]) => sim(...args, '--json').then((r) => JSON.parse(r.text));
    const g = await j(['explain', '--decode', '1', '--ctx', '128']);
    const e = await j(['explain', '--decode', '1', '--ctx', '128', '--eager']);
    expect(e.terms.find((t: { term: string }) => t.term === 'launch').source).toMatch(/^measured/);
    // A decode of one short sequence is launch-bound eager: every small op costs at least the host launch.
    const attn = (x: { ops: { component: string; seconds: number; calls: number }[] }) => x.ops.find((o) => o.component === 'attn_decode')!;
    expect(attn(e).seconds / attn(e).calls).toBeGreaterThan(15e-6);
    expect(attn(g).seconds / attn(g).calls).toBeLessThan(10e-6);
    expect(e.seconds).toBeGreaterThan(g.seconds);
  });

  it('calibrate --gpu H200 re-derives the committed file and prints the launch, comm and step figures', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cal-')), 'h200.json');
    const r = await sim('calibrate', '--gpu', 'H200', '--out', out);
    expect(r.text).toMatch(/launch \(eager = max\(graph \+ gap, host\)\): host [\d.]+ µs/);
    expect(r.text).toMatch(/comm: no collectives measured on 2\+ GPUs; allreduce and all2all keep their priors/);
    expect(r.text).toMatch(/priced ops only 31 steps against the ops sum, median [\d.]+%/);
    expect(fs.readFileSync(out, 'utf8')).toBe(fs.readFileSync(new URL('../../simulator/calibration/h200.json', import.meta.url), 'utf8'));
    await expect(sim('calibrate', '--gpu', 'H200', '--steps', '/nonexistent/s.csv', '--out', out)).rejects.toThrow(/\/nonexistent\/s\.csv: not found/);
  }, 30_000);

  it('bad input names the value and the choices', async () => {
    await expect(sim('explain', '--model', 'Llama-3-9B', '--decode', '1')).rejects.toThrow(/did you mean 'Llama-3-8B'/);
    await expect(sim('explain', '--gpu', 'B300', '--decode', '1')).rejects.toThrow(/unknown GPU: 'B300' is not one of 'H100', 'H200', 'A100-80GB'/);
    await expect(sim('explain', '--model', 'DeepSeek-R1-32B', '--tp', '16', '--decode', '1')).rejects.toThrow(/valid TP degrees are 1, 2, 4, 8/);
    await expect(sim('explain', '--model', 'Llama-3-70B', '--decode', '1')).rejects.toThrow(/does not fit on H100.*short by 61\.1 GB/);
    await expect(sim('explain')).rejects.toThrow(/the step is empty/);
    await expect(sim('explian')).rejects.toThrow(/did you mean 'explain'/);
    const err = await sim('explain', '--model', 'nope', '--decode', '1').catch((e: CliError) => e);
    expect((err as CliError).exitCode).toBe(2);
  });

  it('help for every subcommand has examples', async () => {
    for (const sub of ['explain', 'fit', 'models', 'gpus', 'calibrate']) {
      const r = await sim(sub, '--help');
      expect(r.code).toBe(0);
      expect(r.text).toMatch(/Examples:\n {2}servelab sim /);
    }
    expect((await sim()).code).toBe(2);
  });

  it('models and gpus list the presets with derived numbers', async () => {
    const models = await sim('models');
    expect(models.text).toMatch(/Mixtral-8x7B +mixtral .* 46\.703 +12\.88 +25\.5 +128 /);
    expect(models.text).toMatch(/DeepSeek-R1-Distill-Qwen-32B .* 1,2,4,8\n/);
    const gpus = JSON.parse((await sim('gpus', '--json')).text);
    expect(gpus.map((g: { name: string }) => g.name)).toEqual(['H100', 'H200', 'A100-80GB']);
  });

  it('fit writes coefficients that explain loads with --coefficients', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simfit-'));
    const samples = path.join(dir, 'steps.csv');
    // Steps 20% slower than the model says, plus 0.3 ms per step.
    const cm = createCostModel({ gpu: getGpu('H100'), model: getModel('Llama-3-8B') });
    const rows = ['prefill_tokens,decode_seqs,decode_ctx,seconds'];
    for (const b of [1, 8, 32, 128]) for (const ctx of [256, 2048]) rows.push(`0,${b},${ctx},${cm.decodeStepSeconds(b, ctx) * 1.2 + 3e-4}`);
    for (const s of [256, 1024, 4096]) rows.push(`${s},0,0,${cm.prefillSeconds(s) * 1.2 + 3e-4}`);
    fs.writeFileSync(samples, rows.join('\n') + '\n');
    const out = path.join(dir, 'coeffs.json');
    const r = await sim('fit', '--samples', samples, '--model', 'Llama-3-8B', '--gpu', 'H100', '--out', out, '--ridge', '0');
    expect(r.text).toMatch(/after median \d\.\d\d%/);
    const saved = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(saved.after.maxAbsPctError).toBeLessThan(saved.before.maxAbsPctError);
    const j = JSON.parse((await sim('explain', '--decode', '32', '--ctx', '2048', '--coefficients', out, '--json')).text);
    expect(j.seconds).toBeGreaterThan(cm.decodeStepSeconds(32, 2048) * 1.1);
    await expect(sim('fit', '--model', 'Llama-3-8B')).rejects.toThrow(/--samples: missing/);
  });
});
