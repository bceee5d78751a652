import { describe, expect, it } from 'vitest';
import { SseParser } from '../../collectors/sse.ts';

function parse(pieces: (string | Buffer)[]) {
  const events: string[] = [];
  const bad: string[] = [];
  const p = new SseParser({ event: (b, s, e) => void events.push(b.toString('utf8', s, e)), malformed: (l) => void bad.push(l) });
  for (const x of pieces) {
    // the parser must not keep a reference to a piece: undici reuses its read buffer
    const piece = Buffer.from(x);
    p.push(piece);
    piece.fill(0x21);
  }
  p.end();
  return { events, bad };
}

const body = 'data: {"a":1}\n\n: ping\n\ndata: {"b":2}\r\n\r\nevent: x\nid: 3\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';
const expected = ['{"a":1}', '{"b":2}', 'line1\nline2', '[DONE]'];

describe('SseParser', () => {
  it('frames events, skips comments, joins multi-line data, accepts CRLF', () => {
    expect(parse([body])).toEqual({ events: expected, bad: [] });
  });
  it('gives the same events whatever the TCP split', () => {
    for (let cut = 1; cut < body.length; cut++) {
      expect(parse([body.slice(0, cut), body.slice(cut)]).events).toEqual(expected);
    }
    expect(parse([...body]).events).toEqual(expected);
    const bytes = Buffer.from(body);
    expect(parse([...bytes].map((x) => Buffer.from([x]))).events).toEqual(expected);
    for (let a = 1; a < bytes.length - 1; a += 3) {
      for (let b = a + 1; b < bytes.length; b += 5) {
        expect(parse([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)]).events, `cuts ${a} ${b}`).toEqual(expected);
      }
    }
  });
  it('drops a leading byte-order mark however it is split, and only at the start', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const bytes = Buffer.concat([bom, Buffer.from('data: {"a":1}\n\ndata: x'), bom, Buffer.from('y\n\n')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parse([bytes.subarray(0, cut), bytes.subarray(cut)]).events).toEqual(['{"a":1}', 'x\ufeffy']);
    }
  });
  it('data without a space, an empty data line and a field line without a colon', () => {
    expect(parse(['data:{"a":1}\n\ndata\n\ndata:\ndata: z\n\nretry: 5\nid\ndata: q\n\n']).events).toEqual(['{"a":1}', '', '\nz', 'q']);
  });
  it('a final event without its blank line is still delivered', () => {
    expect(parse(['data: {"x":1}']).events).toEqual(['{"x":1}']);
  });
  it('a line that is not SSE stops parsing and is reported', () => {
    const r = parse(['data: {"a":1}\n\n<html>oops</html>\n\ndata: {"b":2}\n\n']);
    expect(r.events).toEqual(['{"a":1}']);
    expect(r.bad).toEqual(['<html>oops</html>']);
    expect(parse(['data: a\n\ndatum: b\n\n']).bad).toEqual(['datum: b']);
    expect(parse(['data: a\n\nevents: b\n\n']).bad).toEqual(['events: b']);
  });
});
