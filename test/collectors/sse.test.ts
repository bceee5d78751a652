import { describe, expect, it } from 'vitest';
import { SseParser } from '../../collectors/sse.ts';

function parse(pieces: string[]) {
  const events: string[] = [];
  const bad: string[] = [];
  const p = new SseParser({ event: (d) => void events.push(d), malformed: (l) => void bad.push(l) });
  for (const x of pieces) p.push(x);
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
  });
  it('a final event without its blank line is still delivered', () => {
    expect(parse(['data: {"x":1}']).events).toEqual(['{"x":1}']);
  });
  it('a line that is not SSE stops parsing and is reported', () => {
    const r = parse(['data: {"a":1}\n\n<html>oops</html>\n\ndata: {"b":2}\n\n']);
    expect(r.events).toEqual(['{"a":1}']);
    expect(r.bad).toEqual(['<html>oops</html>']);
  });
});
