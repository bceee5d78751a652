// Rows ↔ Apache Arrow IPC for a page's chart data: numbers as Int32 or Float64, text
// dictionary-encoded (repeated backend/dataset names cost 4 bytes a row), booleans as Bool.
// A cell whose columns hold anything else (lists, objects) stays JSON.
import { Bool, Dictionary, Float64, Int32, Table, Utf8, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import type { DataRow } from '../html.ts';

function columnType(values: unknown[]): DataType | undefined {
  let kind: 'int' | 'float' | 'text' | 'bool' | undefined;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    let k: typeof kind;
    if (typeof v === 'number') k = Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 'int' : 'float';
    else if (typeof v === 'string') k = 'text';
    else if (typeof v === 'boolean') k = 'bool';
    else return undefined;
    if (kind === undefined || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else return undefined;
  }
  switch (kind ?? 'text') {
    case 'int':
      return new Int32();
    case 'float':
      return new Float64();
    case 'bool':
      return new Bool();
    default:
      return new Dictionary(new Utf8(), new Int32());
  }
}

/** The rows as an Arrow IPC stream, or undefined when a column is not a plain scalar column. */
export function rowsToArrow(rows: DataRow[], columns: string[]): Uint8Array | undefined {
  if (rows.length === 0 || columns.length === 0) return undefined;
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    const values = rows.map((r) => r[c] ?? null);
    const type = columnType(values);
    if (!type) return undefined;
    vectors[c] = vectorFromArray(values as never[], type);
  }
  return tableToIPC(new Table(vectors), "stream");
}

/**
 * The smaller of the two encodings of a cell's rows for the page: Arrow (base64 of the IPC
 * stream) when it is shorter than the JSON text, else JSON.
 */
export function pageEncoding(rows: DataRow[], columns: string[], json: string): { arrow: string } | undefined {
  if (rows.length < 50) return undefined; // not worth the decoder's time
  const ipc = rowsToArrow(rows, columns);
  if (!ipc) return undefined;
  const b64 = Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength).toString('base64');
  return b64.length < json.length ? { arrow: b64 } : undefined;
}
