// Rows ↔ Apache Arrow IPC for a page's chart data: numbers as Int32 or Float64, text
// dictionary-encoded (repeated backend/dataset names cost 4 bytes a row), booleans as Bool.
// A cell whose columns hold anything else (lists, objects) stays JSON.
import { Bool, Dictionary, Float64, Int32, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
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

/** Without nulls, numbers go in as typed arrays and text through a dictionary built here (the builders are slow on a million rows). */
function fastVector(values: unknown[], type: DataType): Vector | undefined {
  if (values.some((v) => v === null)) return undefined;
  if (type instanceof Float64) return makeVector(Float64Array.from(values as number[]));
  if (type instanceof Int32) return makeVector(Int32Array.from(values as number[]));
  if (type instanceof Dictionary) {
    const keys = new Map<string, number>();
    const indices = new Int32Array(values.length);
    values.forEach((v, i) => {
      let k = keys.get(v as string);
      if (k === undefined) keys.set(v as string, (k = keys.size));
      indices[i] = k;
    });
    const dictionary = vectorFromArray([...keys.keys()], new Utf8());
    return makeVector(makeData({ type, offset: 0, length: values.length, nullCount: 0, data: indices, dictionary }));
  }
  return undefined;
}

/** The rows as an Arrow IPC stream, or undefined when a column is not a plain scalar column. */
export function rowsToArrow(rows: DataRow[], columns: string[]): Uint8Array | undefined {
  if (rows.length === 0 || columns.length === 0) return undefined;
  const vectors: Record<string, Vector> = {};
  for (const c of columns) {
    const values = rows.map((r) => r[c] ?? null);
    const type = columnType(values);
    if (!type) return undefined;
    vectors[c] = fastVector(values, type) ?? vectorFromArray(values as never[], type);
  }
  return tableToIPC(new Table(vectors), "stream");
}

/**
 * The smaller of the two encodings of a cell's rows for the page: Arrow (base64 of the IPC
 * stream) when it is shorter than the JSON text (its length given lazily), else JSON.
 */
export function pageEncoding(rows: DataRow[], columns: string[], json: () => number): { arrow: string } | undefined {
  if (rows.length < 50) return undefined; // not worth the decoder's time
  const ipc = rowsToArrow(rows, columns);
  if (!ipc) return undefined;
  const b64 = Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength).toString('base64');
  return b64.length < json() ? { arrow: b64 } : undefined;
}

/** The length of the rows as JSON: exact up to 2,000 rows, else from the first 2,000. */
export function jsonLength(rows: DataRow[]): number {
  const sample = rows.length <= 2000 ? rows : rows.slice(0, 2000);
  return Math.round((JSON.stringify(sample).length * rows.length) / Math.max(sample.length, 1));
}
