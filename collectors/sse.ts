// Incremental Server-Sent Events framing: text arrives in arbitrary TCP pieces; events are
// `data:` lines up to a blank line. Comment lines (`:` ping) are skipped; `event:`, `id:`,
// `retry:` are accepted and ignored; any other line is malformed and reported.

export interface SseSink {
  /** One complete event's data (data lines joined by \n). Return false to stop parsing. */
  event(data: string): boolean | void;
  /** A line that is not SSE; parsing stops. */
  malformed(line: string): void;
}

const IGNORED_FIELDS = new Set(['event', 'id', 'retry']);

export class SseParser {
  private buf = '';
  private data: string[] = [];
  private stopped = false;

  constructor(private readonly sink: SseSink) {}

  get done(): boolean {
    return this.stopped;
  }

  push(text: string): void {
    if (this.stopped) return;
    this.buf = this.buf.length ? this.buf + text : text;
    let start = 0;
    for (;;) {
      const nl = this.buf.indexOf('\n', start);
      if (nl < 0) break;
      const end = nl > start && this.buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(this.buf.slice(start, end));
      start = nl + 1;
      if (this.stopped) return;
    }
    this.buf = start === 0 ? this.buf : this.buf.slice(start);
  }

  /** End of body: a final event without its blank line is still delivered. */
  end(): void {
    if (this.stopped) return;
    if (this.buf.length) this.line(this.buf);
    this.buf = '';
    if (!this.stopped && this.data.length) this.dispatch();
  }

  private line(line: string): void {
    if (line.length === 0) {
      if (this.data.length) this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field === 'data') {
      let v = colon < 0 ? '' : line.slice(colon + 1);
      if (v.charCodeAt(0) === 32) v = v.slice(1);
      this.data.push(v);
    } else if (!IGNORED_FIELDS.has(field)) {
      this.stopped = true;
      this.sink.malformed(line);
    }
  }

  private dispatch(): void {
    const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
    this.data = [];
    if (this.sink.event(data) === false) this.stopped = true;
  }
}
