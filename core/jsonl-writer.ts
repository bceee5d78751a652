// Append-only JSONL writer with group commit: records are buffered and reach the file within
// `flushMs` (100 ms) of being written, or when the buffer passes `maxBufferBytes`; close() fsyncs.
// A timer flushes an idle buffer, and every write flushes a buffer whose oldest line is due, so
// a busy or stalled event loop (timers late) cannot hold lines back. Writes are synchronous
// appends, so a kill -9 loses at most the lines of the last interval (DESIGN: 200 ms at most;
// bench/killnine.bench.ts measures it).
import fs from 'node:fs';
import path from 'node:path';

export interface JsonlWriterOptions {
  flushMs?: number;
  maxBufferBytes?: number;
}

export class JsonlWriter {
  readonly file: string;
  private fd: number;
  // Lines are UTF-8 encoded straight into one buffer (no string join, no second copy).
  private buf: Buffer;
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  count = 0;
  private readonly maxBufferBytes: number;
  private readonly flushMs: number;
  /** performance.now() when the oldest buffered line was written. */
  private oldestAt = 0;

  constructor(file: string, opts: JsonlWriterOptions = {}) {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
    this.maxBufferBytes = opts.maxBufferBytes ?? 1 << 20;
    this.buf = Buffer.allocUnsafe(Math.min(this.maxBufferBytes, 1 << 16));
    this.flushMs = opts.flushMs ?? 100;
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  write(record: object): void {
    if (this.closed) throw new Error(`${this.file}: write after close`);
    this.writeLine(JSON.stringify(record) + '\n');
  }

  /** Writes a pre-serialized line (must end with a newline). */
  writeLine(line: string): void {
    const worst = line.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (this.used + worst > this.buf.length) {
      if (this.used >= this.maxBufferBytes) this.flush();
      if (this.used + worst > this.buf.length) this.grow(this.used + worst);
    }
    const first = this.used === 0;
    this.used += this.buf.write(line, this.used);
    this.count++;
    this.afterWrite(first);
  }

  /** Flushes when the buffer is full or its oldest line has waited flushMs. */
  private afterWrite(first: boolean): void {
    if (first) this.oldestAt = performance.now();
    if (this.used >= this.maxBufferBytes || performance.now() - this.oldestAt >= this.flushMs) this.flush();
  }

  /**
   * Writes `prefix` (pre-encoded bytes ending in ',') merged with a JSON object text: the line is
   * `{…prefix fields…,` + the object's fields + newline, with no string concatenation or copy.
   * `json` must be JSON.stringify of a non-empty object (it starts with '{').
   */
  writeObjectWithPrefix(prefix: Buffer, json: string): void {
    if (this.closed) throw new Error(`${this.file}: write after close`);
    const worst = prefix.length + json.length * 3 + 1;
    if (this.used + worst > this.buf.length) {
      if (this.used >= this.maxBufferBytes) this.flush();
      if (this.used + worst > this.buf.length) this.grow(this.used + worst);
    }
    // The object's '{' lands on the prefix's last byte, which the prefix copy then overwrites with ','.
    const first = this.used === 0;
    const at = this.used + prefix.length - 1;
    const n = this.buf.write(json, at);
    prefix.copy(this.buf, this.used);
    this.used = at + n;
    this.buf[this.used++] = 10;
    this.count++;
    this.afterWrite(first);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, Math.min(this.buf.length * 2, 2 * this.maxBufferBytes)));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }

  flush(): void {
    if (this.used === 0 || this.closed) return;
    let off = 0;
    while (off < this.used) off += fs.writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    clearInterval(this.timer);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
  }
}

/** Writes a file atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    try {
      if (typeof data === 'string') fs.writeSync(fd, data);
      else fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    // no partial file left behind: the temp file goes, the target keeps its old content
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
