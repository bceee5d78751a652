// Tests of the GPU measurement scripts (bench/gpu/*.py) off the GPU: their pure-Python helpers with any
// python3, and, where a python3 with torch is installed, a real run: the collectives over gloo with two
// ranks (tiny sizes) and whole steps of tiny models on the CPU, read back by the calibration parser.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitCollectives, parseKernelCsv } from '../../simulator/calibrate.ts';
import { getGpu } from '../../simulator/hardware.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const gpuDir = path.join(root, 'bench', 'gpu');
const works = (py: string, code: string) => spawnSync(py, ['-c', code], { stdio: 'ignore', timeout: 60_000 }).status === 0;
const python = ['python3', '/usr/bin/python3'].find((p) => works(p, 'import sys'));
const torchPython = ['python3', '/usr/bin/python3'].find((p) => works(p, 'import torch, torch.distributed as d; assert d.is_gloo_available()'));

// No __pycache__ left in bench/gpu by the imports.
const pyEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
const py = (code: string) => execFileSync(python!, ['-c', code], { cwd: gpuDir, env: pyEnv, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe.skipIf(!python)('measure_collectives.py helpers (no torch needed)', () => {
  it('message sizes double from 4 KiB to 1 GiB; elements divide by the world size', () => {
    const out = JSON.parse(py('import json, measure_collectives as m; print(json.dumps([m.message_sizes(), m.elements(4096, 3), m.elements(10, 8), m.calls_per_rep(4096), m.calls_per_rep(1 << 30)]))'));
    const [sizes, e3, e8, small, big] = out;
    expect(sizes[0]).toBe(4096);
    expect(sizes.at(-1)).toBe(2 ** 30);
    expect(sizes).toHaveLength(19);
    expect(e3 % 3).toBe(0);
    expect(e3).toBeLessThanOrEqual(2048);
    expect(e8).toBe(8);
    expect(small).toBeGreaterThan(big);
  });

  it('all-to-all-v splits: every rank sends its whole buffer, uneven across peers', () => {
    const m: number[][] = JSON.parse(py('import json, measure_collectives as m; print(json.dumps(m.split_matrix(1001, 4)))'));
    for (const row of m) expect(row.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(new Set(m[0]).size).toBeGreaterThan(1);
  });

  it('forces NVLink multicast off whatever the environment says', () => {
    const out = py('import measure_collectives as m; e = {"NCCL_NVLS_ENABLE": "1"}; was = m.force_multicast_off(e); print(was, e["NCCL_NVLS_ENABLE"], e["TORCH_SYMM_MEM_DISABLE_MULTICAST"])');
    expect(out.trim()).toBe('1 0 1');
  });

  it('a row is in the calibration format with its spread', () => {
    const row = py('import measure_collectives as m; print(m.HEADER); print(m.csv_row("all2all", "nccl", 8, 4096, [3.0, 1.0, 2.0, 10.0, 2.5], False))');
    const [r] = parseKernelCsv(row, 'x.csv');
    expect(r).toMatchObject({ op: 'all2all_eager', model: 'nccl', B: 8, bytes: 4096, ms: 2.5 });
    expect(row.trim().split('\n')[1]!.split(',').slice(8)).toEqual(['1', '10', '5']);
  });

  it('measure_step.py: layer overrides are checked; balanced routing loads every expert equally', () => {
    const out = JSON.parse(py('import json, measure_step as m; r = m.routing(8, 8, 2); print(json.dumps([m.parse_layers("Mixtral-8x7B=4", m.MODELS), sorted(len(v) for v in r.values())]))'));
    expect(out[0]).toEqual({ 'Llama-3-8B': 32, 'Mixtral-8x7B': 4 });
    expect(out[1]).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    expect(() => py('import measure_step as m; m.parse_layers("Mixtral-8x7B=99", m.MODELS)')).toThrow(/layers must be 1\.\.32/);
  });
});

describe.skipIf(!torchPython)('the scripts run on the CPU (python3 with torch)', () => {
  it('measure_collectives.py: two gloo ranks check the results and time every op and size', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const rank = (r: number) =>
      new Promise<string>((resolve, reject) => {
        const env = { ...pyEnv, RANK: String(r), LOCAL_RANK: String(r), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, NCCL_NVLS_ENABLE: '1' };
        const p = spawn(torchPython!, ['measure_collectives.py', '--backend', 'gloo', '--dtype', 'fp32', '--max-bytes', '16384', '--reps', '2', '--warmup', '1'], { cwd: gpuDir, env });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        const t = setTimeout(() => p.kill(), 60_000);
        p.on('close', (code) => {
          clearTimeout(t);
          if (code === 0) resolve(out + '\n#ERR ' + err);
          else reject(new Error(`rank ${r} exited ${code}: ${err}`));
        });
      });
    const [out0, out1] = await Promise.all([rank(0), rank(1)]);
    const csv = out0.split('\n#ERR ')[0]!;
    expect(out1.split('\n#ERR ')[0]!.trim()).toBe(''); // only rank 0 prints the CSV
    expect(out0).toMatch(/NCCL_NVLS_ENABLE=1 overridden to 0/);
    const rows = parseKernelCsv(csv, 'gloo.csv');
    expect(rows).toHaveLength(3 * 3); // 3 ops × 4, 8, 16 KiB, eager only on gloo
    expect(new Set(rows.map((r) => r.op))).toEqual(new Set(['allreduce_eager', 'all2all_eager', 'all2allv_eager']));
    for (const r of rows) {
      expect(r.B).toBe(2);
      expect(r.ms).toBeGreaterThan(0);
    }
    // Eager rows only: nothing for the comm fit, which takes graph-captured rows.
    expect(fitCollectives(rows, getGpu('H200'))).toEqual([]);
  }, 90_000);

  it('measure_step.py --tiny: dense and MoE steps, decode and prefill, with their layer count', () => {
    const out = execFileSync(torchPython!, ['measure_step.py', '--tiny', '--reps', '2', '--priced'], { cwd: gpuDir, env: pyEnv, encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = parseKernelCsv(out, 'steps.csv');
    expect(rows).toHaveLength(2 * 2 * (4 + 2)); // eager and priced rows
    expect(rows.every((r) => r.layers === 2 && r.ms > 0)).toBe(true);
    expect(rows.filter((r) => r.op.endsWith('_priced'))).toHaveLength(12);
    expect(rows.filter((r) => r.op === 'step_decode_eager' && r.model === 'tiny-moe').map((r) => [r.B, r.ctx])).toEqual([[1, 5], [1, 17], [3, 5], [3, 17]]);
    // More context reads more KV: bytes grow with ctx at the same batch.
    const d = rows.filter((r) => r.op === 'step_decode_eager' && r.model === 'tiny-dense' && r.B === 3);
    expect(d[1]!.bytes).toBeGreaterThan(d[0]!.bytes);
  }, 90_000);
});
