// The generator's prompts file: one prompt per line as it is sent, newlines and backslashes
// escaped (\n, \r, \\) so `imbalance replay` reads every prompt back exactly as it was sent.
import fs from 'node:fs';
import { inputError, usageError } from '../../core/errors.ts';

export function escapePrompt(prompt: string): string {
  return prompt.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

/** The inverse of escapePrompt; an unknown escape keeps its backslash (files written by hand). */
export function unescapePrompt(line: string): string {
  return line.replace(/\\([\\nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
}

/** Appends prompts to the file as they are sent (one write each, so a crash loses none already sent). */
export class PromptsWriter {
  private fd: number;
  count = 0;
  constructor(readonly path: string, append = false) {
    try {
      this.fd = fs.openSync(path, append ? 'a' : 'w');
    } catch (e) {
      throw usageError(`--prompts-file ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  write(prompt: string): void {
    fs.writeSync(this.fd, escapePrompt(prompt) + '\n');
    this.count++;
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Every prompt of a prompts file, in order; blank lines are skipped. Missing or empty: a usage error. */
export function readPrompts(file: string): string[] {
  if (!fs.existsSync(file)) throw usageError(`--prompts-file ${file}: no such file (write one with servelab imbalance generate --prompts-file ${file})`);
  if (fs.statSync(file).isDirectory()) throw usageError(`--prompts-file ${file}: is a folder, not a prompts file`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    out.push(unescapePrompt(line));
  }
  if (out.length === 0) throw inputError(file, undefined, 'no prompt in the file (one prompt per line; write one with servelab imbalance generate)');
  return out;
}
