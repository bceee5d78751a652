// A numpy .npy (format 1.0) writer for integer arrays, the payload of routed_experts in vLLM's
// responses (base64 of np.save's bytes); collectors/moe/routed-experts.ts reads it back.

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
