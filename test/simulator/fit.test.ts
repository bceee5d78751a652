// Tests of the NNLS solver (simulator/nnls.ts) and the cost-model fit (simulator/fit.ts): known
// solutions, recovered coefficients from synthetic samples, sample files with file:line errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCoefficients } from '../../simulator/coefficients.ts';
import { createCostModel, decodeShape, prefillShape } from '../../simulator/cost-model.ts';
import { fitCoefficients, loadSamples, sampleEquations } from '../../simulator/fit.ts';
import { getGpu } from '../../simulator/hardware.ts';
import { getModel } from '../../simulator/models.ts';
import { nnls } from '../../simulator/nnls.ts';

describe('Lawson–Hanson NNLS', () => {
  it('solves a problem whose unconstrained optimum is negative', () => {
    // Unconstrained: x = (2, −1)·…; with x ≥ 0 the optimum is x = (1.5, 0).
    const x = nnls([[1, 0], [0, 1], [1, 1]], [2, -1, 1]);
    expect(x[0]).toBeCloseTo(1.5, 10);
    expect(x[1]).toBe(0);
  });

  it('recovers an exact non-negative solution, zeros included', () => {
    const A = Array.from({ length: 12 }, (_, i) => [1, i, (i * i) % 7, Math.sin(i) + 2, i % 3]);
    const truth = [0.5, 0, 2, 1.25, 0];
    const b = A.map((r) => r.reduce((s, a, j) => s + a * truth[j]!, 0));
    nnls(A, b).forEach((v, j) => expect(v).toBeCloseTo(truth[j]!, 8));
  });

  it('matches the textbook example (Lawson & Hanson style 4×3)', () => {
    const A = [[1, 2, 0], [0, 1, 1], [1, 0, 1], [2, 1, 1]];
    const b = [1, -2, 3, 0];
    const x = nnls(A, b);
    expect(x.every((v) => v >= 0)).toBe(true);
    // KKT: gradient ≤ 0 on zero coordinates, = 0 on positive ones.
    const r = b.map((bi, i) => bi - A[i]!.reduce((s, a, j) => s + a * x[j]!, 0));
    const w = [0, 1, 2].map((j) => A.reduce((s, row, i) => s + row[j]! * r[i]!, 0));
    w.forEach((wj, j) => (x[j]! > 0 ? expect(Math.abs(wj)).toBeLessThan(1e-9) : expect(wj).toBeLessThanOrEqual(1e-9)));
  });
});

describe('cost-model fit', () => {
  const base = { gpu: getGpu('H100'), model: getModel('Llama-3-8B'), tp: 2 };

  it('recovers changed overheads and multipliers from synthetic step samples', () => {
    const truth = defaultCoefficients();
    truth.overhead.perStep = 400e-6;
    truth.overhead.perLayer = 10e-6;
    truth.scale.attn_decode = 1.3;
    truth.comm.allreduceAlpha = 12e-6;
    const cm = createCostModel({ ...base, coefficients: truth });
    const shapes = [];
    for (const b of [1, 4, 16, 64, 128, 256]) for (const ctx of [128, 1024, 4096]) shapes.push(decodeShape(b, ctx));
    for (const s of [128, 512, 2048, 8192]) shapes.push(prefillShape(s));
    shapes.push({ prefillSeqs: 1, prefillTokens: 512, prefillAttnWork: 512 * 1000, decodeSeqs: 40, decodeCtxSum: 40 * 900 });
    const samples = shapes.map((shape, i) => ({ shape, seconds: cm.stepTime(shape).seconds, where: `s${i}` }));
    const r = fitCoefficients({ ...base, coefficients: defaultCoefficients() }, samples, 1e-6);
    expect(r.before.medianAbsPctError).toBeGreaterThan(3);
    expect(r.after.maxAbsPctError).toBeLessThan(1);
    expect(r.coefficients.scale.attn_decode).toBeCloseTo(1.3, 1);
  });

  it('converts request samples (TTFT, TPOT) into step equations', () => {
    const eq = sampleEquations({ prompt_tokens: 1000, output_tokens: 101, ttft_ms: 50, tpot_ms: 8, concurrency: 4 }, 'f:1');
    expect(eq).toHaveLength(2);
    expect(eq[0]!.shape.prefillTokens).toBe(1000);
    expect(eq[0]!.seconds).toBeCloseTo(0.05);
    expect(eq[1]!.shape).toMatchObject({ decodeSeqs: 4, decodeCtxSum: 4 * 1050.5 });
    const fromRecord = sampleEquations({ prompt_tokens_server: 10, output_tokens: 11, sent_ns: 0, first_token_ns: 2e7, last_token_ns: 12e7 }, 'f:2');
    expect(fromRecord.map((e) => e.seconds)).toEqual([0.02, 0.01]);
    expect(() => sampleEquations({ output_tokens: 3 }, 'f:3')).toThrow('f:3: prompt_tokens: missing');
    // Failed servelab request records carry no timings: skipped, not an error.
    expect(sampleEquations({ status: 'http_error', prompt_tokens: 10, output_tokens: 0 }, 'f:5')).toEqual([]);
    expect(() => sampleEquations({ decode_seqs: 3, ms: 4 }, 'f:4')).toThrow(/f:4: decode_ctx_sum: missing/);
  });

  it('reads JSONL and CSV sample files with file:line errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fit-'));
    const csv = path.join(dir, 's.csv');
    fs.writeFileSync(csv, 'prefill_tokens,decode_seqs,decode_ctx,ms\n0,8,1000,9.5\n2048,0,0,120\n');
    const s = loadSamples(csv);
    expect(s.map((x) => x.shape.decodeCtxSum)).toEqual([8000, 0]);
    const jl = path.join(dir, 's.jsonl');
    fs.writeFileSync(jl, '{"prompt_tokens": 100, "ttft": 0.03}\n{oops\n');
    expect(() => loadSamples(jl)).toThrow(`${jl}:2: not valid JSON`);
  });
});

describe('sample validation', () => {
  it('rejects negative or non-numeric fields with file:line and field', () => {
    expect(() => sampleEquations({ prefill_tokens: -5, ms: 3 }, 'x.csv:7')).toThrow('x.csv:7: prefill_tokens: -5 is negative');
    expect(() => sampleEquations({ prompt_tokens: 'many', ttft: 1 }, 'x.jsonl:2')).toThrow('x.jsonl:2: prompt_tokens: "many" is not a number');
  });
});
