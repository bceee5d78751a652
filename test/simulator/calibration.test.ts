// Tests of the H100 calibration (simulator/calibrate.ts): committed coefficients physical and
// fitting their families, an exact synthetic fit, CSV errors by line and column, Nelder–Mead.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_CSV, calibrate, calibrateFile, calibrationJson, nelderMead, opSeconds, parseKernelCsv } from '../../simulator/calibrate.ts';
import { CALIBRATION_FILE, defaultCoefficients } from '../../simulator/coefficients.ts';

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

  it('Nelder–Mead finds the minimum of a known function', () => {
    const x = nelderMead(([a, b]) => (a! - 3) ** 2 + 10 * (b! + 1) ** 2, [0, 0], 0.5, 500);
    expect(x[0]).toBeCloseTo(3, 4);
    expect(x[1]).toBeCloseTo(-1, 4);
  });
});
