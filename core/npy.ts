// numpy .npy files (format 1.0–3.0) of integers: the writer the simulated server uses for
// routed_experts, and the reader the MoE collectors use for vLLM's (base64 of np.save's bytes).
import { CliError } from './errors.ts';

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

/** np.save bytes of `data` (C order) as little-endian int16 ('<i2'), or int32 when a value needs it. */
export function encodeNpy(data: ArrayLike<number>, shape: readonly number[]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`npy: shape (${shape.join(', ')}) holds ${n} values, got ${data.length}`);
  let wide = false;
  for (let i = 0; i < data.length; i++) if (data[i]! < -32768 || data[i]! > 32767) wide = true;
  const size = wide ? 4 : 2;
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<i${size}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and ended by \n to 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = Buffer.alloc(total + n * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < n; i++) {
    if (wide) out.writeInt32LE(data[i]!, total + i * 4);
    else out.writeInt16LE(data[i]!, total + i * 2);
  }
  return out;
}
