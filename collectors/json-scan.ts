// A JSON scanner over bytes for the stream events' hot path: it walks one event in place and
// hands back only the few values a protocol handler reads, so the common event costs no object
// tree. It is never laxer than JSON.parse: whatever it cannot vouch for (bad syntax, nesting
// past MAX_DEPTH, an escaped key, a value of an unexpected type) makes it answer FAIL, and the
// caller then parses the event with JSON.parse, which gives the exact result or the exact error.

/** Returned by every scan function when the input is not plainly valid JSON. */
export const FAIL = -1;
const MAX_DEPTH = 32;

const QUOTE = 34;
const BACKSLASH = 92;

export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}

/** Set by skipString: whether the last string scanned had an escape. */
export let stringEscaped = false;

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** `b[i]` opens a string; returns the index after its closing quote, or FAIL. */
export function skipString(b: Uint8Array, i: number, end: number): number {
  if (b[i] !== QUOTE) return FAIL;
  i++;
  let escaped = false;
  while (i < end) {
    const c = b[i]!;
    if (c === QUOTE) {
      stringEscaped = escaped;
      return i + 1;
    }
    if (c < 32) return FAIL; // raw control characters are not allowed in JSON strings
    if (c === BACKSLASH) {
      escaped = true;
      const d = b[i + 1];
      if (d === 117 /* u */) {
        if (i + 5 >= end || !isHex(b[i + 2]!) || !isHex(b[i + 3]!) || !isHex(b[i + 4]!) || !isHex(b[i + 5]!)) return FAIL;
        i += 6;
        continue;
      }
      // \" \\ \/ \b \f \n \r \t
      if (d !== QUOTE && d !== BACKSLASH && d !== 47 && d !== 98 && d !== 102 && d !== 110 && d !== 114 && d !== 116) return FAIL;
      i += 2;
      continue;
    }
    i++;
  }
  return FAIL;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;

/** A JSON number at i (strict grammar); returns the index after it, or FAIL. */
function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 45 /* - */) i++;
  if (i >= end) return FAIL;
  if (b[i] === 48 /* 0 */) i++;
  else if (isDigit(b[i])) while (i < end && isDigit(b[i])) i++;
  else return FAIL;
  if (i < end && b[i] === 46 /* . */) {
    i++;
    if (i >= end || !isDigit(b[i])) return FAIL;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 101 || b[i] === 69) /* e E */) {
    i++;
    if (i < end && (b[i] === 43 || b[i] === 45)) i++;
    if (i >= end || !isDigit(b[i])) return FAIL;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

function literal(b: Uint8Array, i: number, end: number, word: string): number {
  if (i + word.length > end) return FAIL;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return FAIL;
  return i + word.length;
}

/** Any JSON value at i (no leading whitespace); returns the index after it, or FAIL. */
export function skipValue(b: Uint8Array, i: number, end: number, depth = 0): number {
  if (i >= end) return FAIL;
  const c = b[i]!;
  if (c === QUOTE) return skipString(b, i, end);
  if (c === 123 /* { */ || c === 91 /* [ */) {
    if (depth >= MAX_DEPTH) return FAIL;
    const obj = c === 123;
    const close = obj ? 125 : 93;
    i = skipWs(b, i + 1, end);
    if (b[i] === close) return i + 1;
    for (;;) {
      if (obj) {
        i = skipString(b, i, end);
        if (i === FAIL) return FAIL;
        i = skipWs(b, i, end);
        if (b[i] !== 58 /* : */) return FAIL;
        i = skipWs(b, i + 1, end);
      }
      i = skipValue(b, i, end, depth + 1);
      if (i === FAIL) return FAIL;
      i = skipWs(b, i, end);
      if (b[i] === 44 /* , */) {
        i = skipWs(b, i + 1, end);
        continue;
      }
      return b[i] === close ? i + 1 : FAIL;
    }
  }
  if (c === 116) return literal(b, i, end, 'true');
  if (c === 102) return literal(b, i, end, 'false');
  if (c === 110) return literal(b, i, end, 'null');
  return skipNumber(b, i, end);
}

/** Whether the key string at [i, keyEnd) (quotes included, no escapes) spells `name`. */
export function keyIs(b: Uint8Array, i: number, keyEnd: number, name: string): boolean {
  if (keyEnd - i - 2 !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (b[i + 1 + k] !== name.charCodeAt(k)) return false;
  return true;
}

/**
 * The string value [i, valueEnd) (quotes included) as a JS string: decoded in place when it has
 * no escape (a UTF-8 slice between ASCII quotes decodes as that part of the whole text would),
 * else by JSON.parse of just that literal.
 */
export function stringAt(b: Buffer, i: number, valueEnd: number, escaped: boolean): string {
  return escaped ? (JSON.parse(b.toString('utf8', i, valueEnd)) as string) : b.toString('utf8', i + 1, valueEnd - 1);
}

/** Reads one member's value at `valueStart`; returns the index after it, or FAIL. */
export type MemberFn = (b: Buffer, keyStart: number, keyEnd: number, valueStart: number, end: number) => number;

/**
 * Walks the object at `start` (leading whitespace allowed), calling `member` for each member
 * (a module-level function, so that no closure is made per event). Returns the index after the
 * object, or FAIL when the text is not plainly valid or `member` failed.
 */
export function eachMember(b: Buffer, start: number, end: number, member: MemberFn, depth: number): number {
  let i = skipWs(b, start, end);
  if (b[i] !== 123) return FAIL;
  if (depth >= MAX_DEPTH) return FAIL;
  i = skipWs(b, i + 1, end);
  if (b[i] === 125) return i + 1;
  for (;;) {
    const k = i;
    i = skipString(b, i, end);
    if (i === FAIL || stringEscaped) return FAIL; // an escaped key could spell a name looked for
    const ke = i;
    i = skipWs(b, i, end);
    if (b[i] !== 58) return FAIL;
    i = skipWs(b, i + 1, end);
    i = member(b, k, ke, i, end);
    if (i === FAIL) return FAIL;
    i = skipWs(b, i, end);
    if (b[i] === 44) {
      i = skipWs(b, i + 1, end);
      continue;
    }
    return b[i] === 125 ? i + 1 : FAIL;
  }
}
