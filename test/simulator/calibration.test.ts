// Tests of the H100 calibration (simulator/calibrate.ts): committed coefficients physical and
// fitting their families, an exact synthetic fit, CSV errors by line and column, Nelder–Mead.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import {
  KERNEL_CSV, type KernelRow, calibrate, calibrateFile, calibrateFiles, calibrationJson, defaultInputs, checkSteps, eagerSeconds, fitCollectives, fitLaunch, nelderMead, opSeconds, parseKernelCsv, stepPrice,
} from '../../simulator/calibrate.ts';
import { CALIBRATION_FILE, calibrationFileFor, defaultCoefficients, loadCoefficients, priorCoefficients } from '../../simulator/coefficients.ts';
import { getGpu } from '../../simulator/hardware.ts';

const hasShared = fs.existsSync(KERNEL_CSV);

describe('H100 calibration', () => {
  it.skipIf(!hasShared)('re-deriving from ../shared/calibration gives the committed h100.json (no drift)', () => {
    const fresh = calibrationJson(calibrateFile());
    expect(fresh, 'simulator/calibration/h100.json drifted: run servelab sim calibrate').toBe(fs.readFileSync(CALIBRATION_FILE, 'utf8'));
  });

  it('the committed coefficients are physical and fit their families', () => {
    const saved = JSON.parse(fs.readFileSync(CALIBRATION_FILE, 'utf8'));
    const c = defaultCoefficients();
    for (const [fam, k] of Object.entries(c.ops)) {
      expect(k.etaFlop, fam).toBeGreaterThan(0.2);
      expect(k.etaFlop, fam).toBeLessThanOrEqual(1);
      expect(k.etaMem, fam).toBeGreaterThan(0.3);
      expect(k.etaMem, fam).toBeLessThanOrEqual(1);
      expect(k.latency, fam).toBeLessThan(50e-6);
    }
    // GEMMs reach 0.7–0.77 of peak compute-bound and 0.78–0.87 of HBM memory-bound (the README's table).
    expect(c.ops.gemm_gate_up.etaFlop).toBeGreaterThan(0.68);
    expect(c.ops.gemm_gate_up.etaFlop).toBeLessThan(0.8);
    for (const f of saved.fit) expect(f.medianAbsPctError, f.family).toBeLessThan(15);
    expect(saved.ceilings.hbmCopyTBps).toBeCloseTo(3.03, 1);
  });

  it('fits a synthetic family exactly', () => {
    const truth = { etaFlop: 0.6, etaMem: 0.8, latency: 5e-6 };
    const lines = ['op,model,T,B,ctx,flops,bytes,ms'];
    for (const [ctx, b] of [[128, 1], [512, 8], [2048, 32], [8192, 128], [1024, 4], [4096, 64]]) {
      const flops = 4 * b! * 32 * ctx! * 128;
      const bytes = 2 * (2 * b! * 32 * 128 + 2 * b! * 8 * ctx! * 128);
      lines.push(`attn_decode,X,${b},${b},${ctx},${flops},${bytes},${opSeconds({ ...truth, etaFlop: 0.5 }, 6, flops, bytes, 989.4e12, 3.35e12) * 1e3}`);
    }
    const cal = calibrate(parseKernelCsv(lines.join('\n')));
    expect(cal.coefficients.ops.attn_decode.etaMem).toBeCloseTo(0.8, 3);
    expect(cal.coefficients.ops.attn_decode.latency).toBeCloseTo(5e-6, 8);
  });

  it('a malformed CSV names the line and the column', () => {
    expect(() => parseKernelCsv('op,model,T\n')).toThrow(/h100-kernels.csv:1: B: expected column 4/);
    expect(() => parseKernelCsv('op,model,T,B,ctx,flops,bytes,ms\ngemm_o,X,1,0,0,abc,1,1\n', 'k.csv')).toThrow('k.csv:2: flops: \'abc\' is not a number');
  });

  it('the layers column is read where present and checked', () => {
    const [r] = parseKernelCsv('op,model,T,B,ctx,flops,bytes,ms,p10_ms,p90_ms,reps,layers\nstep_decode,Llama-3-8B,8,8,512,1,1,4.5,4.4,4.6,20,32\n');
    expect(r!.layers).toBe(32);
    expect(() => parseKernelCsv('op,model,T,B,ctx,flops,bytes,ms,layers\nstep_decode,X,8,8,512,1,1,4.5,x\n', 's.csv')).toThrow("s.csv:2: layers: 'x' is not a whole number");
  });

  it('Nelder–Mead finds the minimum of a known function', () => {
    const x = nelderMead(([a, b]) => (a! - 3) ** 2 + 10 * (b! + 1) ** 2, [0, 0], 0.5, 500);
    expect(x[0]).toBeCloseTo(3, 4);
    expect(x[1]).toBeCloseTo(-1, 4);
  });
});

const h200 = defaultInputs('H200');
describe.skipIf(!fs.existsSync(h200.kernels))('H200 calibration (bench/data)', () => {
  it('re-deriving from bench/data gives the committed h200.json (no drift)', () => {
    const fresh = calibrationJson(calibrateFiles(h200));
    expect(fresh, 'simulator/calibration/h200.json drifted: run servelab sim calibrate --gpu H200').toBe(fs.readFileSync(calibrationFileFor('H200'), 'utf8'));
  });

  it('the H200 defaults are its own measurements, physical, and the H100 keeps its own', () => {
    const saved = JSON.parse(fs.readFileSync(calibrationFileFor('H200'), 'utf8'));
    const c = defaultCoefficients('H200');
    expect(c.source).toMatch(/^H200 kernel calibration \(bench\/data\/h200-kernels\.csv\)/);
    expect(defaultCoefficients('H100').source).toMatch(/^H100 kernel calibration/);
    expect(defaultCoefficients('A100-80GB').source).toMatch(/^H100 kernel calibration/);
    for (const [fam, k] of Object.entries(c.ops)) {
      expect(k.etaMem, fam).toBeGreaterThan(0.3);
      expect(k.etaMem, fam).toBeLessThanOrEqual(1);
      expect(k.etaFlop, fam).toBeLessThanOrEqual(1);
    }
    for (const f of saved.fit) expect(f.medianAbsPctError, f.family).toBeLessThan(15);
    // A copy moves 4.0–4.6 TB/s on an H200 (vendor 4.8).
    expect(saved.ceilings.hbmCopyTBps).toBeGreaterThan(3.6);
    expect(saved.ceilings.hbmCopyTBps).toBeLessThan(4.8);
    expect(c.sources.launch).toMatch(/^measured/);
    expect(saved.steps.graph.points).toBeGreaterThan(10);
  });
});

const row = (op: string, ms: number, o: Partial<KernelRow> = {}): KernelRow => ({ op, model: 'X', T: 1, B: 0, ctx: 0, flops: 0, bytes: 0, ms, line: 0, ...o });

describe('launch term', () => {
  it('recovers host and gap from synthetic graph/eager pairs, and prices eager calls above graph ones', () => {
    const rows: KernelRow[] = [];
    for (const [i, g] of [2e-6, 4e-6, 8e-6, 15e-6, 30e-6, 60e-6, 120e-6, 500e-6, 2e-3].entries()) {
      rows.push(row('gemm_o', g * 1e3, { T: i }), row('gemm_o_eager', eagerSeconds(g, 17e-6, 2.5e-6) * 1e3, { T: i }));
    }
    rows.push(row('step_decode_eager', 99, { T: 0 }), row('step_decode', 1, { T: 0 })); // whole steps are not launch pairs
    const fit = fitLaunch(rows)!;
    expect(fit.points).toBe(9);
    expect(fit.hostSeconds).toBeCloseTo(17e-6, 8);
    expect(fit.gapSeconds).toBeCloseTo(2.5e-6, 8);
    expect(fit.perFamily.gemm_o).toBeCloseTo(17e-6, 8);
    // A family never host-bound has no host cost of its own; a bare-launch floor (launch_add) sets the global one.
    const more = [...rows];
    for (const [i, g] of [50e-6, 80e-6, 200e-6].entries()) more.push(row('gemm_down', g * 1e3, { T: i }), row('gemm_down_eager', (g + 2.5e-6) * 1e3, { T: i }));
    for (const [i, g] of [1e-6, 1.2e-6, 2e-6].entries()) more.push(row('launch_add', g * 1e3, { T: i }), row('launch_add_eager', eagerSeconds(g, 6e-6, 2.5e-6) * 1e3, { T: i }));
    const f2 = fitLaunch(more)!;
    expect(f2.perFamily.gemm_down).toBeUndefined();
    expect(f2.hostSeconds).toBeCloseTo(6e-6, 8);
    expect(f2.perFamily.gemm_o).toBeCloseTo(17e-6, 8);
    expect(fit.maxAbsPctError).toBeLessThan(0.5);
    expect(fit.withoutTerm.maxAbsPctError).toBeGreaterThan(80); // a 2 µs kernel eager costs 17 µs
    expect(fitLaunch(rows.slice(0, 4))).toBeNull();
  });

  it('the committed H100 launch term is measured and brings eager small ops within reach', () => {
    const saved = JSON.parse(fs.readFileSync(CALIBRATION_FILE, 'utf8'));
    expect(saved.launch.hostSeconds).toBeGreaterThan(10e-6);
    expect(saved.launch.hostSeconds).toBeLessThan(40e-6);
    expect(saved.launch.maxAbsPctError).toBeLessThan(saved.launch.withoutTerm.maxAbsPctError);
    expect(defaultCoefficients().sources.launch).toMatch(/^measured/);
    expect(defaultCoefficients().sources['comm.allreduce']).toBeUndefined();
  });
});

describe('collectives fit', () => {
  it('recovers α and the bandwidth fraction of all-reduce and all-to-all on 2/4/8 GPUs; one GPU fits nothing', () => {
    const gpu = getGpu('H200');
    const link = 450e9;
    const rows: KernelRow[] = [];
    for (const n of [1, 2, 4, 8]) {
      for (let b = 4096; b <= 2 ** 30; b *= 4) {
        rows.push(row('allreduce', (20e-6 + (2 * (n - 1) * b) / n / (0.7 * link)) * 1e3, { B: n, bytes: b }));
        rows.push(row('all2all', (35e-6 + ((n - 1) * b) / n / (0.5 * link)) * 1e3, { B: n, bytes: b }));
        rows.push(row('all2all_eager', 1, { B: n, bytes: b }));
      }
    }
    const fits = fitCollectives(rows, gpu);
    const ar = fits.find((f) => f.op === 'allreduce')!;
    const a2a = fits.find((f) => f.op === 'all2all')!;
    expect(ar.alpha).toBeCloseTo(20e-6, 9);
    expect(ar.bwFraction).toBeCloseTo(0.7, 4);
    expect(a2a.alpha).toBeCloseTo(35e-6, 9);
    expect(a2a.bwFraction).toBeCloseTo(0.5, 4);
    expect(ar.gpus).toEqual([2, 4, 8]);
    expect(ar.byClass.map((c) => c.sizeClass)).toEqual(['4KiB-64KiB', '64KiB-8MiB', '8MiB-1GiB']);
    expect(ar.all.maxAbsPctError).toBeLessThan(1e-6);
    expect(fitCollectives(rows.filter((r) => r.B === 1), gpu)).toEqual([]);
    // The fitted terms land in the coefficients and are marked measured.
    const cal = calibrate([row('gemm_o', 0.02, { T: 1, flops: 1e6, bytes: 3e7 }), row('gemm_o', 0.03, { T: 2, flops: 2e6, bytes: 4e7 })], gpu, { file: 'k.csv', sha256: '' }, { collectives: rows, collectivesFiles: ['c.csv'] });
    expect(cal.coefficients.comm.allreduceAlpha).toBeCloseTo(20e-6, 9);
    expect(cal.coefficients.sources['comm.all2all']).toBe('measured (c.csv: 2/4/8 GPUs)');
    expect(cal.coefficients.sources.overhead).toBeUndefined();
  });
});

describe('whole-step check', () => {
  it('prices a step of the layers run (MoE with the balanced routing) and reports the error', () => {
    const gpu = getGpu('H200');
    const c = priorCoefficients();
    const dense = row('step_decode', 1, { model: 'Llama-3-8B', T: 8, B: 8, ctx: 512, layers: 32 });
    const half = row('step_decode', 1, { model: 'Llama-3-8B', T: 8, B: 8, ctx: 512, layers: 16 });
    expect(stepPrice(half, gpu, c).opsOnly).toBeLessThan(stepPrice(dense, gpu, c).opsOnly * 0.6);
    const moe = row('step_prefill', 1, { model: 'Mixtral-8x7B', T: 512, B: 1, ctx: 512, layers: 8 });
    const eager = { ...dense, op: 'step_decode_eager' };
    expect(stepPrice(eager, gpu, c).seconds).toBeGreaterThan(stepPrice(dense, gpu, c).seconds);
    const truth = [dense, moe, eager].map((r) => ({ ...r, ms: stepPrice(r, gpu, c).seconds * 1e3 * 1.1 }));
    const s = checkSteps(truth, gpu, c);
    expect(s.graph.points).toBe(2);
    expect(s.eager.points).toBe(1);
    expect(s.rows[0]!.errPct).toBeCloseTo(100 / 1.1 - 100, 4);
    expect(s.graph.medianAbsPctError).toBeCloseTo(100 - 100 / 1.1, 3);
    expect(s.rows[1]!.opsOnlyMs).toBeLessThan(s.rows[1]!.modelMs);
  });
});

describe('term sources', () => {
  it('a coefficients file without sources marks the terms it sets; a bad source names the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coef-'));
    const f = path.join(dir, 'c.json');
    fs.writeFileSync(f, JSON.stringify({ comm: { allreduceAlpha: 1e-5 }, ops: { gemm_o: { etaMem: 0.8 } } }));
    const c = loadCoefficients(f, defaultCoefficients());
    expect(c.sources['comm.allreduce']).toBe(`set by ${f}`);
    expect(c.sources['ops.gemm_o']).toBe(`set by ${f}`);
    expect(c.sources['ops.gemm_qkv']).toMatch(/^measured/);
    fs.writeFileSync(f, JSON.stringify({ sources: { bogus: 'x' } }));
    expect(() => loadCoefficients(f)).toThrow(/sources\.bogus: unknown term; expected one of ops\.gemm_qkv/);
  });
});
