// Incremental Server-Sent Events framing over raw bytes: bytes arrive in arbitrary TCP pieces;
// events are `data:` lines up to a blank line. Comment lines (`:` ping) are skipped; `event:`,
// `id:`, `retry:` are accepted and ignored; any other line is malformed and reported. Lines are
// found with Buffer.indexOf and an event's data is handed on as a byte range of the piece that
// carried it, so the common event (one data line inside one read) is neither copied nor decoded
// here; a line cut by a read boundary is the only thing kept across reads (a UTF-8 character is
// never split, as lines end at '\n'). A UTF-8 byte-order mark opening the stream is dropped.

export interface SseSink {
  /**
   * One complete event's data (data lines joined by \n): bytes [start, end) of `buf`, which is
   * only valid during the call. Return false to stop parsing.
   */
  event(buf: Buffer, start: number, end: number): boolean | void;
  /** A line that is not SSE; parsing stops. */
  malformed(line: string): void;
}

const NL = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

/** The field name of bytes [s, e): 'data', 'ignored' (event, id, retry) or 'other'. */
function fieldKind(b: Buffer, s: number, e: number): 'data' | 'ignored' | 'other' {
  const n = e - s;
  if (n === 4 && b[s] === 100 && b[s + 1] === 97 && b[s + 2] === 116 && b[s + 3] === 97) return 'data';
  if (n === 2 && b[s] === 105 && b[s + 1] === 100) return 'ignored'; // id
  if (n === 5 && b.toString('latin1', s, e) === 'event') return 'ignored';
  if (n === 5 && b.toString('latin1', s, e) === 'retry') return 'ignored';
  return 'other';
}

const NEWLINE = Buffer.from('\n');

export class SseParser {
  /** An incomplete line carried over from the previous piece (an owned copy). */
  private rest: Buffer | null = null;
  /** The open event's only data line so far, while it lies in the piece being parsed. */
  private cur: Buffer | null = null;
  private curStart = 0;
  private curEnd = 0;
  /** The open event's data lines copied out of earlier pieces (or past the first line). */
  private held: Buffer[] = [];
  private lines = 0;
  private stopped = false;
  private bomChecked = false;

  constructor(private readonly sink: SseSink) {}

  get done(): boolean {
    return this.stopped;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl < 0) break;
      const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
      this.line(buf, start, end);
      start = nl + 1;
      if (this.stopped) return;
    }
    if (start < buf.length) this.rest = Buffer.from(buf.subarray(start));
    // the piece may be reused once this call returns: keep an owned copy of a pending data line
    if (this.cur) {
      this.held.push(Buffer.from(this.cur.subarray(this.curStart, this.curEnd)));
      this.cur = null;
    }
  }

  /** End of body: a final event without its blank line is still delivered. */
  end(): void {
    if (this.stopped) return;
    const rest = this.rest;
    this.rest = null;
    if (rest) this.line(rest, 0, rest.length);
    if (!this.stopped && this.lines) this.dispatch();
  }

  private line(b: Buffer, s: number, e: number): void {
    if (!this.bomChecked) {
      this.bomChecked = true;
      if (e - s >= 3 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf) s += 3;
    }
    if (s === e) {
      if (this.lines) this.dispatch();
      return;
    }
    if (b[s] === COLON) return;
    let colon = -1;
    for (let i = s; i < e && i < s + 6; i++) {
      if (b[i] === COLON) {
        colon = i;
        break;
      }
    }
    const kind = fieldKind(b, s, colon < 0 ? e : colon);
    if (kind === 'data') {
      let v = colon < 0 ? e : colon + 1;
      if (v < e && b[v] === SPACE) v++;
      this.dataLine(b, v, e);
    } else if (kind === 'other') {
      this.stopped = true;
      this.sink.malformed(b.toString('utf8', s, e));
    }
  }

  private dataLine(b: Buffer, s: number, e: number): void {
    if (this.lines === 0 && this.held.length === 0) {
      this.cur = b;
      this.curStart = s;
      this.curEnd = e;
    } else {
      if (this.cur) {
        this.held.push(Buffer.from(this.cur.subarray(this.curStart, this.curEnd)));
        this.cur = null;
      }
      this.held.push(Buffer.from(b.subarray(s, e)));
    }
    this.lines++;
  }

  private dispatch(): void {
    let r: boolean | void;
    if (this.cur) {
      const b = this.cur;
      this.cur = null;
      this.lines = 0;
      r = this.sink.event(b, this.curStart, this.curEnd);
    } else {
      const parts = this.held;
      this.held = [];
      this.lines = 0;
      const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts.flatMap((p, i) => (i ? [NEWLINE, p] : [p])));
      r = this.sink.event(joined, 0, joined.length);
    }
    if (r === false) this.stopped = true;
  }
}
