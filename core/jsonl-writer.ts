// Append-only JSONL writer with group commit: records are buffered and reach the file at
// least every `flushMs` (200 ms) or when the buffer passes `maxBufferBytes`; close() fsyncs.
// Writes are synchronous appends, so a crash loses at most the last interval.
import fs from 'node:fs';
import path from 'node:path';

export interface JsonlWriterOptions {
  flushMs?: number;
  maxBufferBytes?: number;
}

export class JsonlWriter {
  readonly file: string;
  private fd: number;
  private parts: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  count = 0;
  private readonly maxBufferBytes: number;

  constructor(file: string, opts: JsonlWriterOptions = {}) {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
    this.maxBufferBytes = opts.maxBufferBytes ?? 1 << 20;
    this.timer = setInterval(() => this.flush(), opts.flushMs ?? 200);
    this.timer.unref();
  }

  write(record: object): void {
    if (this.closed) throw new Error(`${this.file}: write after close`);
    const line = JSON.stringify(record) + '\n';
    this.parts.push(line);
    this.bytes += line.length;
    this.count++;
    if (this.bytes >= this.maxBufferBytes) this.flush();
  }

  /** Writes a pre-serialized line (must end with a newline). */
  writeLine(line: string): void {
    this.parts.push(line);
    this.bytes += line.length;
    this.count++;
    if (this.bytes >= this.maxBufferBytes) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0 || this.closed) return;
    const data = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    fs.writeSync(this.fd, data);
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
    if (typeof data === 'string') fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
