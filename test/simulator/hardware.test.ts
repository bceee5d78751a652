// Tests of the GPU table (simulator/hardware.ts): datasheet values, aliases, did-you-mean on an
// unknown GPU, FP8 where unsupported, and user GPU files validated by field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../core/errors.ts';
import { GPUS, getGpu, loadGpuFile, peakFlops } from '../../simulator/hardware.ts';

describe('hardware', () => {
  it('has the three datasheet GPUs with simulation.md values', () => {
    expect(GPUS.map((g) => g.name)).toEqual(['H100', 'H200', 'A100-80GB']);
    expect(getGpu('H100')).toMatchObject({ bf16Tflops: 989.4, fp8Tflops: 1978.9, hbmGB: 80, hbmTBps: 3.35, nvlinkGBps: 900, pcieGBps: 64 });
    expect(getGpu('H200')).toMatchObject({ hbmGB: 141, hbmTBps: 4.8 });
    expect(getGpu('A100')).toMatchObject({ bf16Tflops: 312, fp8Tflops: null, hbmTBps: 2.039, nvlinkGBps: 600 });
  });

  it('accepts aliases, case-insensitively', () => {
    for (const a of ['h100', 'H100-SXM', 'h100_sxm5', 'nvidia-h100']) expect(getGpu(a).name).toBe('H100');
    expect(getGpu('a100-80gb').name).toBe('A100-80GB');
  });

  it('an unknown GPU lists the choices with a did-you-mean', () => {
    expect(() => getGpu('H10')).toThrow(/unknown GPU: 'H10' is not one of 'H100', 'H200', 'A100-80GB' \(did you mean 'H100'\?\)/);
  });

  it('fp8 on a GPU without FP8 says what to use', () => {
    expect(() => peakFlops(getGpu('A100'), 'fp8')).toThrow(/no FP8.*--dtype bf16/);
    expect(peakFlops(getGpu('H100'), 'fp8')).toBe(1978.9e12);
  });

  it('loads user GPUs from JSON and validates fields with the file name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-'));
    const good = path.join(dir, 'gpus.json');
    fs.writeFileSync(good, JSON.stringify([{ name: 'L40S', aliases: ['l40s-48gb'], bf16Tflops: 362, fp8Tflops: 733, hbmGB: 48, hbmTBps: 0.864, nvlinkGBps: 64, pcieGBps: 32 }]));
    expect(loadGpuFile(good)[0]!.name).toBe('L40S');
    expect(getGpu('L40S-48GB').hbmGB).toBe(48);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ name: 'X', bf16Tflops: 1, hbmGB: -3, hbmTBps: 1, nvlinkGBps: 1, pcieGBps: 1 }));
    expect(() => loadGpuFile(bad)).toThrow(CliError);
    expect(() => loadGpuFile(bad)).toThrow(`${bad}: hbmGB: -3 is not a positive number`);
    fs.writeFileSync(bad, JSON.stringify({ name: 'X', bf16Tflops: 1, hbmGB: 3, nvlinkGBps: 1, pcieGBps: 1 }));
    expect(() => loadGpuFile(bad)).toThrow(`${bad}: hbmTBps: missing`);
    fs.writeFileSync(bad, '{oops');
    expect(() => loadGpuFile(bad)).toThrow(/not valid JSON/);
  });
});
