// Byte-level check of one raw JSONL line against a table's contract, without decoding or
// JSON.parse: the finalize scan's fast path. It says yes only when sure; the rest goes the exact way.
import { isTimeNs, type TableDef } from './schema.ts';

/** True only if the line is one JSON object that the reader's check would call 'ok'. */
export type FastCheck = (b: Uint8Array, start: number, end: number) => boolean;

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const COMMA = 44;
const OPEN = 123;
const CLOSE = 125;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

const KIND = { VARCHAR: 0, BIGINT: 1, INTEGER: 2, DOUBLE: 3, BOOLEAN: 4, JSON: 5 } as const;

interface Spec {
  name: Uint8Array;
  kind: number;
  /** Null or missing is refused. */
  required: boolean;
  enumValues: Uint8Array[] | undefined;
  /** A *_ns time: never negative. */
  nonNegative: boolean;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const NULL = bytes('null');
const TRUE = bytes('true');
const FALSE = bytes('false');

function matches(b: Uint8Array, i: number, end: number, word: Uint8Array): boolean {
  if (i + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

/** End of a JSON string starting at the quote at i (index after the closing quote), or -1 if unsure. */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  if (i >= end || b[i] !== QUOTE) return -1;
  for (i++; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    // Escapes and control characters: left to JSON.parse. Bytes ≥ 0x80 decode to text either way.
    if (c === BACKSLASH || c < 0x20) return -1;
  }
  return -1;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= NINE;

/**
 * End of a JSON number at i, or -1. `integerOnly`: digits only, no fraction or exponent, and at
 * most `maxDigits` of them (JSON.parse reads such a literal as an integer-valued finite number).
 */
function numberEnd(b: Uint8Array, i: number, end: number, integerOnly: boolean, maxDigits = 300): number {
  if (i < end && b[i] === MINUS) i++;
  const first = i;
  if (i >= end || !isDigit(b[i])) return -1;
  if (b[i] === ZERO) i++;
  else while (i < end && isDigit(b[i])) i++;
  if (i < end && isDigit(b[i])) return -1; // a leading zero
  if (integerOnly) {
    if (i - first > maxDigits) return -1;
    if (i < end && (b[i] === DOT || b[i] === 101 || b[i] === 69)) return -1;
    return i;
  }
  if (i < end && b[i] === DOT) {
    i++;
    if (!(i < end && isDigit(b[i]))) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 101 || b[i] === 69)) {
    i++;
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++;
    if (!(i < end && isDigit(b[i]))) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

/** End of a field's value at i, or -1 when the value is wrong for the field or unusual. */
function valueEnd(f: Spec, b: Uint8Array, i: number, end: number): number {
  if (matches(b, i, end, NULL)) return f.required ? -1 : i + 4;
  switch (f.kind) {
    case KIND.VARCHAR: {
      const e = stringEnd(b, i, end);
      if (e < 0 || f.enumValues === undefined) return e;
      for (const v of f.enumValues) if (v.length === e - i - 2 && matches(b, i + 1, e - 1, v)) return e;
      return -1;
    }
    case KIND.BIGINT:
      // 15 digits stay below 2^53 (exact in JSON.parse); a longer one or a negative time goes the exact way
      return f.nonNegative && b[i] === MINUS ? -1 : numberEnd(b, i, end, true, 15);
    case KIND.INTEGER: {
      const e = numberEnd(b, i, end, true, 10);
      if (e < 0) return -1;
      let v = 0;
      for (let k = b[i] === MINUS ? i + 1 : i; k < e; k++) v = v * 10 + (b[k]! - ZERO);
      return v <= 2147483647 ? e : -1;
    }
    case KIND.DOUBLE:
      return numberEnd(b, i, end, false);
    case KIND.BOOLEAN:
      if (matches(b, i, end, TRUE)) return i + 4;
      if (matches(b, i, end, FALSE)) return i + 5;
      return -1;
    default: {
      // JSON: scalars only; objects and arrays go the exact way.
      const c = b[i];
      if (c === QUOTE) return stringEnd(b, i, end);
      if (c === MINUS || isDigit(c)) return numberEnd(b, i, end, false);
      if (matches(b, i, end, TRUE)) return i + 4;
      if (matches(b, i, end, FALSE)) return i + 5;
      return -1;
    }
  }
}

/**
 * The fast check for a table: `{"key":value,…}` with no whitespace (as JSON.stringify writes
 * it), every key a contract field at most once, every value of the field's type (enums, INTEGER
 * range, required fields present and not null). Anything else, `extra` included, answers false.
 */
export function fastChecker(table: TableDef): FastCheck {
  const specs: Spec[] = Object.entries(table.fields)
    .filter(([n]) => n !== 'extra')
    .map(([n, f]) => ({
      name: bytes(n),
      kind: KIND[f.type],
      required: !f.nullable && f.default === undefined,
      enumValues: f.type === 'VARCHAR' && f.enum ? (f.enum as readonly string[]).map(bytes) : undefined,
      nonNegative: isTimeNs(n),
    }));
  const required = specs.map((s, k) => (s.required ? k : -1)).filter((k) => k >= 0);
  // Keys come in the same order line after line: try the previous line's field at each position first.
  const order: number[] = specs.map((_, k) => k);
  const seen = new Uint32Array(specs.length);
  let stamp = 0;
  const lookup = (b: Uint8Array, ks: number, ke: number): number => {
    for (let k = 0; k < specs.length; k++) {
      const name = specs[k]!.name;
      if (name.length === ke - ks && matches(b, ks, ke, name)) return k;
    }
    return -1;
  };
  return (b, start, end) => {
    if (++stamp === 0xffffffff) {
      seen.fill(0);
      stamp = 1;
    }
    let i = start;
    if (i >= end || b[i] !== OPEN) return false;
    i++;
    if (i < end && b[i] === CLOSE) i++;
    else {
      for (let j = 0; ; j++) {
        if (i >= end || b[i] !== QUOTE) return false;
        const ks = i + 1;
        let k = j < order.length ? order[j]! : -1;
        let ke = k < 0 ? -1 : ks + specs[k]!.name.length;
        // The expected name followed by a quote is that key exactly (names hold no quote or escape).
        if (ke < 0 || ke >= end || b[ke] !== QUOTE || !matches(b, ks, ke, specs[k]!.name)) {
          ke = stringEnd(b, i, end) - 1;
          if (ke < 0) return false;
          k = lookup(b, ks, ke);
          if (k < 0) return false;
          if (j < order.length) order[j] = k;
        }
        if (seen[k] === stamp) return false;
        seen[k] = stamp;
        i = ke + 1;
        if (i >= end || b[i] !== COLON) return false;
        i = valueEnd(specs[k]!, b, i + 1, end);
        if (i < 0 || i >= end) return false;
        if (b[i] === COMMA) {
          i++;
          continue;
        }
        if (b[i] !== CLOSE) return false;
        i++;
        break;
      }
    }
    if (i !== end) return false;
    for (const k of required) if (seen[k] !== stamp) return false;
    return true;
  };
}
