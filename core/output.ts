// Terminal output shared by every command: an aligned table on a terminal, plain lines on a
// pipe or in CI, and a progress line with an ETA for long work.

export function isInteractive(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== 'dumb';
}

export type Cell = string | number | boolean | bigint | null | undefined;

export function formatCell(v: Cell | unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e9) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
  }
  if (typeof v === 'object') return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/** An aligned text table; numbers right-aligned. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const text = rows.map((r) => r.map((c) => formatCell(c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i]!.length)));
  const isNumber = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  // Right-aligned: columns of numbers (NULLs allowed); a column of NULLs only stays left-aligned.
  const numeric = columns.map((_, i) => rows.some((r) => isNumber(r[i])) && rows.every((r) => isNumber(r[i]) || r[i] == null));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

export interface Progress {
  tick(done: number, note?: string): void;
  end(note?: string): void;
}

/** A progress bar with ETA on a terminal; a line every `plainEveryMs` otherwise. */
export function progress(label: string, total: number, opts: { stream?: NodeJS.WriteStream; plainEveryMs?: number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = isInteractive(stream);
  const every = opts.plainEveryMs ?? 10_000;
  const start = performance.now();
  let lastPlain = start;
  const render = (done: number, note = '') => {
    const elapsed = (performance.now() - start) / 1000;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const eta = frac > 0 ? elapsed / frac - elapsed : NaN;
    const etaText = Number.isFinite(eta) ? ` ETA ${formatDuration(eta)}` : '';
    return { frac, text: `${label} ${done}/${total}${etaText}${note ? ` ${note}` : ''}` };
  };
  return {
    tick(done, note) {
      const { frac, text } = render(done, note);
      if (tty) {
        const width = 24;
        const filled = Math.round(frac * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (performance.now() - lastPlain >= every) {
        lastPlain = performance.now();
        stream.write(`${text}\n`);
      }
    },
    end(note) {
      const { text } = render(total, note);
      stream.write(tty ? `\r${text} done in ${formatDuration((performance.now() - start) / 1000)}\x1b[K\n` : `${text} done in ${formatDuration((performance.now() - start) / 1000)}\n`);
    },
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
