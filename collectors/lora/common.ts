// What probe and sweep share: the run they write into (their own, or the pipeline's --run), the
// server's reported configuration, and output-file helpers.
import fs from 'node:fs';
import path from 'node:path';
import { CliError, ExitCode } from '../../core/errors.ts';
import { createRun, type RunHandle } from '../../core/run.ts';

/** The pipeline's run (--run DIR, reopened) or a new run of experiment lora. */
export function openLoraRun(o: { run?: string; data?: string; config: unknown }): { run: RunHandle; own: boolean } {
  if (o.run) {
    if (!fs.existsSync(path.join(o.run, 'manifest.json'))) throw new CliError(`--run ${o.run}: not a run folder (no manifest.json); make one with servelab lora init`, ExitCode.usage);
    return { run: createRun({ experiment: 'lora', dir: o.run, resume: true }), own: false };
  }
  return { run: createRun({ experiment: 'lora', dataDir: o.data, config: o.config }), own: true };
}

/** The /generate server's GET /health configuration (total_loras, gpu_loras), or null when it does not say. */
export async function serverConfig(base: string): Promise<{ total_loras?: number; gpu_loras?: number } | null> {
  try {
    const res = await fetch(base + '/health', { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) return null;
    const j = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    return j && typeof j === 'object' ? (j as { total_loras?: number; gpu_loras?: number }) : null;
  } catch {
    return null;
  }
}

/** Appends CSV rows; the header only when the file is new or empty (the old tools' `--out` append). */
export function appendCsv(file: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))) : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const fresh = !fs.existsSync(file) || fs.statSync(file).size === 0;
  if (fresh) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (!fresh) {
    const head = fs.readFileSync(file, 'utf8').split('\n', 1)[0]!;
    if (head !== columns.join(',')) throw new CliError(`${file}:1: its header is not this tool's columns (${columns.slice(0, 4).join(',')},…); give another --out`, ExitCode.usage);
  }
  const text = (fresh ? columns.join(',') + '\n' : '') + rows.map((r) => columns.map((c) => cell(r[c])).join(',') + '\n').join('');
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The old tools' run_timestamp: local "YYYY-MM-DD HH:MM:SS". */
export function runTimestamp(d = new Date()): string {
  const z = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())} ${z(d.getHours())}:${z(d.getMinutes())}:${z(d.getSeconds())}`;
}
