// Client-side expert load from vLLM's --enable-return-routed-experts: each non-streaming choice
// carries `routed_experts`, a base64 .npy array of per-token expert ids, turned into gate-log lines.
import { CliError } from '../../core/errors.ts';

export interface NpyArray {
  /** numpy dtype string, e.g. '<i4', '<i8', '|u1'. */
  dtype: string;
  shape: number[];
  /** The values in C order. */
  data: number[];
}

type Reader = (v: DataView, off: number, le: boolean) => number;
const READERS: Record<string, [number, Reader]> = {
  i1: [1, (v, o) => v.getInt8(o)],
  u1: [1, (v, o) => v.getUint8(o)],
  i2: [2, (v, o, le) => v.getInt16(o, le)],
  u2: [2, (v, o, le) => v.getUint16(o, le)],
  i4: [4, (v, o, le) => v.getInt32(o, le)],
  u4: [4, (v, o, le) => v.getUint32(o, le)],
  i8: [8, (v, o, le) => Number(v.getBigInt64(o, le))],
  u8: [8, (v, o, le) => Number(v.getBigUint64(o, le))],
};

/** Decodes a .npy file (format 1.0–3.0) of integers: the header gives dtype, order and shape. */
export function decodeNpy(bytes: Uint8Array, where = 'routed_experts'): NpyArray {
  const bad = (problem: string) => new CliError(`${where}: not a numpy .npy array of expert ids: ${problem}`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad('missing the \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(`format version ${major}.${bytes[7]} (1–3 supported)`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw bad('header runs past the end');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw bad(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw bad(`shape (${shapeText})`);
  const m = /^([<>|=])([iu]\d)$/.exec(descr);
  const reader = m ? READERS[m[2]!] : undefined;
  if (!m || !reader) throw bad(`dtype '${descr}' (integer dtypes only: ${Object.keys(READERS).join(', ')})`);
  const [size, read] = reader;
  const le = m[1] !== '>';
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (dataStart + n * size > bytes.length) throw bad(`${n} values of ${size} bytes need ${n * size} bytes, ${bytes.length - dataStart} present`);
  const flat = new Array<number>(n);
  for (let i = 0; i < n; i++) flat[i] = read(view, dataStart + i * size, le);
  // Fortran order: transpose to C order.
  const data = fortran === 'True' && shape.length > 1 ? toC(flat, shape) : flat;
  return { dtype: descr, shape, data };
}

function toC(flat: number[], shape: number[]): number[] {
  const n = flat.length;
  const out = new Array<number>(n);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  for (let c = 0; c < n; c++) {
    // c walks C order; compute the Fortran offset of the same index
    let f = 0;
    let stride = 1;
    for (let d = 0; d < nd; d++) {
      f += idx[d]! * stride;
      stride *= shape[d]!;
    }
    out[c] = flat[f]!;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export interface GateLine {
  step: number;
  layer: number;
  num_tokens: number;
  expert_counts: number[];
  rank: number;
  t: number;
}

/**
 * One request's routed experts as gate-log lines, one per MoE layer: shape (tokens, layers, top_k)
 * as vLLM returns it, or (tokens, top_k) for a single layer. `step` numbers the request (the
 * client does not see engine steps); negative ids (padding) are skipped.
 */
export function routedExpertsToGateLines(b64: string, opts: { experts: number; step: number; t: number; where?: string }): GateLine[] {
  const where = opts.where ?? 'routed_experts';
  const arr = decodeNpy(Buffer.from(b64, 'base64'), where);
  let [tokens, layers, topK] = arr.shape.length === 3 ? arr.shape : arr.shape.length === 2 ? [arr.shape[0]!, 1, arr.shape[1]!] : [NaN, NaN, NaN];
  if (!Number.isFinite(tokens)) throw new CliError(`${where}: shape (${arr.shape.join(', ')}): expected (tokens, layers, top_k) or (tokens, top_k)`);
  tokens = tokens!;
  layers = layers!;
  topK = topK!;
  const counts = Array.from({ length: layers }, () => new Array<number>(opts.experts).fill(0));
  for (let t = 0; t < tokens; t++) {
    for (let l = 0; l < layers; l++) {
      for (let k = 0; k < topK; k++) {
        const e = arr.data[(t * layers + l) * topK + k]!;
        if (e < 0) continue;
        if (e >= opts.experts) throw new CliError(`${where}: expert id ${e} at token ${t}, layer ${l} is not below --experts ${opts.experts}`);
        counts[l]![e]!++;
      }
    }
  }
  return counts.map((expert_counts, layer) => ({ step: opts.step, layer, num_tokens: tokens, expert_counts, rank: 0, t: opts.t }));
}
