// The byte-level fast check says yes only where JSON.parse + the contract check would accept
// the line as a plain record: spelled-out cases, then thousands of mutated lines against that oracle.
import { describe, expect, it } from 'vitest';
import { fastChecker } from '../../core/jsonl-fastcheck.ts';
import { checker } from '../../core/jsonl-reader.ts';
import { tables } from '../../core/schema.ts';
import { normalizeRecord } from '../../core/validate.ts';

const t = tables.requests;
const fast = fastChecker(t);
const check = (line: string) => {
  const b = Buffer.from(`xx${line}\nyy`);
  return fast(b, 2, b.length - 3);
};

const base = {
  run: 'r1',
  shard: 0,
  request_id: 'q-1',
  endpoint: 'llama',
  protocol: 'openai-chat',
  url: 'http://127.0.0.1:8000/v1/chat/completions',
  phase: 'main',
  prompt_tokens_client: 120,
  output_tokens: 64,
  token_mismatch: false,
  sent_ns: 1_000_000_000,
  first_token_ns: 1_020_000_000,
  last_token_ns: 1_050_000_000,
  sent_unix_ms: 1763870000000.25,
  status: 'ok',
  http_status: 200,
  error: null,
};

const exact = checker(t);

/** What the exact path says: a plain record (the reader's check says 'ok', normalizeRecord agrees), or not. */
function oracle(line: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
  if (exact(parsed as Record<string, unknown>) !== 'ok') return false;
  try {
    normalizeRecord(t, parsed, { file: 'x', line: 1 });
    return true;
  } catch {
    return false;
  }
}

describe('fastChecker', () => {
  it('accepts plain records and refuses (or leaves to JSON.parse) everything else', () => {
    const line = (patch: object) => JSON.stringify({ ...base, ...patch });
    expect(check(JSON.stringify(base))).toBe(true);
    expect(check(line({ url: 'é漢😀 "quoted"' }))).toBe(false); // escapes go the exact way
    expect(check(line({ url: 'é漢😀' }))).toBe(true);
    expect(check(line({ status: 'nope' }))).toBe(false);
    expect(check(line({ shard: 2 ** 31 }))).toBe(false);
    expect(check(line({ shard: -(2 ** 31 - 1) }))).toBe(true);
    expect(check(line({ sent_ns: 1.5 }))).toBe(false);
    expect(check(line({ last_token_ns: -5 }))).toBe(false); // a negative time goes the exact way (an error there)
    expect(check(line({ sent_ns: 2 ** 60 }))).toBe(false); // beyond 2^53 too
    expect(check(line({ sent_ns: '5' }))).toBe(false);
    expect(check(line({ token_mismatch: 1 }))).toBe(false);
    expect(check(line({ run: null }))).toBe(false);
    expect(check(line({ client_host: 'h1' }))).toBe(false);
    expect(check(line({ extra: { a: 1 } }))).toBe(false);
    const { run: _r, ...noRun } = base;
    expect(check(JSON.stringify(noRun))).toBe(false);
    expect(check(JSON.stringify(base).replace('"shard":0', '"shard":0,"shard":1'))).toBe(false); // repeated key
    expect(check(JSON.stringify(base).replace('"sent_ns":', '"sent_ns": '))).toBe(false); // whitespace
    expect(check(`${JSON.stringify(base)} `)).toBe(false);
    expect(check(JSON.stringify(base).slice(0, -1))).toBe(false); // torn
    expect(check(JSON.stringify(base).replace(':1000000000', ':01000000000'))).toBe(false); // leading zero
  });

  it('never says yes where the exact check would not (mutated lines)', () => {
    const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', '0', '1', '9', '-', '+', '.', 'e', 'E', 'n', 't', 'f', ' ', '\t', '\u0001', 'é', 'a', 'null', 'true', '""'];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const good = JSON.stringify(base);
    let accepted = 0;
    for (let n = 0; n < 20000; n++) {
      let s = good;
      for (let m = 1 + rand(3); m > 0; m--) {
        const at = rand(s.length + 1);
        const op = rand(3);
        const ins = alphabet[rand(alphabet.length)]!;
        s = op === 0 ? s.slice(0, at) + s.slice(at + 1) : op === 1 ? s.slice(0, at) + ins + s.slice(at) : s.slice(0, at) + ins + s.slice(at + 1);
      }
      const said = check(s);
      if (said) {
        accepted++;
        expect(oracle(s), s).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(100); // the mutations do reach the yes side
  });
});
