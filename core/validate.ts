// Checks one parsed record against its table: types, enums, required fields. Unknown fields
// move into `extra`, never dropped. Errors read `file:line: field: problem`.
import { inputError } from './errors.ts';
import { type Field, isTimeNs, type TableDef } from './schema.ts';

export interface Where {
  file: string;
  line: number;
}

export function normalizeRecord(table: TableDef, input: unknown, where: Where): Record<string, unknown> {
  const at = `${where.file}:${where.line}`;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw inputError(at, undefined, `expected a JSON object for a ${table.name} record`);
  }
  const rec = input as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let extra: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(rec)) {
    const field = table.fields[key];
    if (!field) {
      extra ??= {};
      extra[key] = value;
      continue;
    }
    out[key] = key === 'extra' ? value : checkValue(field, key, value, at);
  }
  for (const [key, field] of Object.entries(table.fields)) {
    if (out[key] !== undefined && out[key] !== null) continue;
    if (key in out && field.nullable) continue;
    if (field.default !== undefined) out[key] = field.default;
    else if (field.nullable) out[key] = null;
    else throw inputError(at, key, `missing (required ${field.type}: ${field.doc})`);
  }
  if (extra) {
    const prior = out.extra && typeof out.extra === 'object' ? (out.extra as Record<string, unknown>) : {};
    out.extra = { ...prior, ...extra };
  }
  return out;
}

function checkValue(field: Field, key: string, value: unknown, at: string): unknown {
  if (value === null || value === undefined) {
    if (field.nullable || field.default !== undefined) return value ?? null;
    throw inputError(at, key, `is null (required ${field.type})`);
  }
  switch (field.type) {
    case 'VARCHAR':
      if (typeof value !== 'string') throw inputError(at, key, `expected a string, got ${describe(value)}`);
      if (field.enum && !field.enum.includes(value)) {
        throw inputError(at, key, `'${value}' is not one of ${field.enum.join(', ')}`);
      }
      return value;
    case 'BIGINT':
    case 'INTEGER':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw inputError(at, key, `expected an integer, got ${describe(value)}`);
      }
      if (field.type === 'INTEGER' && Math.abs(value) > 2 ** 31 - 1) throw inputError(at, key, `${value} does not fit INTEGER`);
      // beyond 2^53 JSON numbers are not exact, and beyond 2^63 DuckDB's BIGINT would read NULL
      if (!Number.isSafeInteger(value)) throw inputError(at, key, `${value} is beyond ±2^53 (9007199254740991), where integers are no longer exact`);
      if (value < 0 && isTimeNs(key)) throw inputError(at, key, `${value} is negative: *_ns count nanoseconds from the run's start`);
      return value;
    case 'DOUBLE':
      if (typeof value !== 'number') throw inputError(at, key, `expected a number, got ${describe(value)}`);
      return value;
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw inputError(at, key, `expected true or false, got ${describe(value)}`);
      return value;
    case 'JSON':
      return value;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (Array.isArray(v)) return 'an array';
  return v === null ? 'null' : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
