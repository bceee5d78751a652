// vLLM's routed_experts (base64 .npy of per-token expert ids) → per-layer expert counts as
// gate-log lines: little- and big-endian, C and Fortran order, 2-D and 3-D, and bad input.
import { describe, expect, it } from 'vitest';
import { routedExpertsToGateLines } from '../../../collectors/moe/routed-experts.ts';
import { decodeNpy } from '../../../core/npy.ts';

/** A .npy 1.0 file by hand: magic, version, header length, padded header dict, then the data. */
function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): string {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  head.set(new TextEncoder().encode(header), 10);
  return Buffer.concat([head, data]).toString('base64');
}

// tokens × layers × top_k = 3 × 2 × 2; -1 is padding.
const IDS = [0, 3, 1, 2, 0, 1, 7, 2, 3, 0, 1, -1];
const LAYER0 = [3, 1, 0, 2, 0, 0, 0, 0];
const LAYER1 = [0, 2, 2, 0, 0, 0, 0, 1];
// The same array written by numpy.save (int32 C order; int64 Fortran order).
const NUMPY_I4 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAwAAAAEAAAACAAAAAAAAAAEAAAAHAAAAAgAAAAMAAAAAAAAAAQAAAP////8=';
const NUMPY_I8_F =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMywgMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAcAAAAAAAAAAQAAAAAAAAADAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAACAAAAAAAAAAIAAAAAAAAA//////////8=';

describe('routed_experts → gate-log lines', () => {
  it('counts each layer’s experts from a hand-made big-endian int16 array', () => {
    const data = new Uint8Array(IDS.length * 2);
    const v = new DataView(data.buffer);
    IDS.forEach((x, i) => v.setInt16(i * 2, x, false));
    const lines = routedExpertsToGateLines(npy('>i2', [3, 2, 2], data), { experts: 8, step: 4, t: 1.5 });
    expect(lines).toEqual([
      { step: 4, layer: 0, num_tokens: 3, expert_counts: LAYER0, rank: 0, t: 1.5 },
      { step: 4, layer: 1, num_tokens: 3, expert_counts: LAYER1, rank: 0, t: 1.5 },
    ]);
  });

  it('reads numpy.save output in C and Fortran order alike', () => {
    expect(decodeNpy(Buffer.from(NUMPY_I4, 'base64')).data).toEqual(IDS);
    expect(decodeNpy(Buffer.from(NUMPY_I8_F, 'base64'))).toEqual({ dtype: '<i8', shape: [3, 2, 2], data: IDS });
    const lines = routedExpertsToGateLines(NUMPY_I8_F, { experts: 8, step: 0, t: 0 });
    expect(lines.map((l) => l.expert_counts)).toEqual([LAYER0, LAYER1]);
  });

  it('takes (tokens, top_k) as one layer; rejects ids past the experts and non-npy input', () => {
    const lines = routedExpertsToGateLines(npy('|u1', [2, 2], new Uint8Array([1, 2, 2, 3])), { experts: 4, step: 1, t: 0 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.expert_counts).toEqual([0, 1, 2, 1]);
    expect(() => routedExpertsToGateLines(NUMPY_I4, { experts: 4, step: 0, t: 0 })).toThrow(/expert id 7 at token 1, layer 1 is not below --experts 4/);
    expect(() => routedExpertsToGateLines(Buffer.from('hello').toString('base64'), { experts: 8, step: 0, t: 0 })).toThrow(/magic/);
    expect(() => routedExpertsToGateLines(npy('<f4', [1, 2], new Uint8Array(8)), { experts: 8, step: 0, t: 0 })).toThrow(/dtype '<f4'/);
  });
});

describe('servelab moe routed', () => {
  it('writes one step per choice with routed_experts; servelab moe cv reads the folder', async () => {
    const { run } = await import('../../../collectors/moe/cmd-routed.ts');
    const { run: cv } = await import('../../../collectors/moe/cmd-cv.ts');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-routed-'));
    const out: string[] = [];
    const spy = (s: unknown) => (out.push(String(s)), true);
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = spy as typeof process.stdout.write;
    try {
      const responses = path.join(dir, 'responses.jsonl');
      const resp = (choices: unknown[]) => JSON.stringify({ id: 'x', object: 'text_completion', created: 7, choices });
      fs.writeFileSync(responses, [resp([{ index: 0, text: 'a', routed_experts: NUMPY_I4 }, { index: 1, text: 'b' }]), '', resp([{ index: 0, text: 'c', routed_experts: NUMPY_I8_F }])].join('\n') + '\n');
      expect(await run([responses, '--experts', '8', '--out', path.join(dir, 'gates')])).toBe(0);
      const lines = fs.readFileSync(path.join(dir, 'gates', 'gate_logs_client.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      // t is null: a response's `created` is a wall-clock second, not a step time on any run clock
      expect(lines.map((l) => [l.step, l.layer, l.num_tokens, l.t])).toEqual([[0, 0, 3, null], [0, 1, 3, null], [1, 0, 3, null], [1, 1, 3, null]]);
      expect(lines[2].expert_counts).toEqual(LAYER0);
      out.length = 0;
      expect(await cv([path.join(dir, 'gates'), '--method', 'aggregated'])).toBe(0);
      expect(out.join('')).toContain('Aggregated CV: 0.8861'); // loads 6 6 4 4 0 0 0 2 (both requests, both layers)
      await expect(run([responses, '--out', path.join(dir, 'g2')])).rejects.toThrow(/--experts N is required/);
    } finally {
      process.stdout.write = orig;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
