// A run folder data/runs/<experiment>/<run-id>/ as collectors and the simulator write it:
// manifest.json (atomic), raw/<table>[-<shard>].jsonl writers, and the final status.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { scrubCommand, scrubSecrets } from './credentials.ts';
import { CliError, ExitCode } from './errors.ts';
import { JsonlWriter, writeFileAtomic } from './jsonl-writer.ts';
import type { RecordOf, RunManifest, TableName } from './schema.ts';

export const DEFAULT_DATA_DIR = 'data';

export function runsRoot(dataDir = process.env.SERVELAB_DATA ?? DEFAULT_DATA_DIR): string {
  return path.join(dataDir, 'runs');
}

/** A sortable, readable run id: 20261123-045101-a1b2. */
export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

/**
 * Checks an experiment name or run id, the one place that does: each is exactly one folder
 * under runs/, so no path separator, no `.`/`..`, nothing empty or hidden (a leading `.` is
 * skipped when the archive is scanned), no control characters, and no `=` (DuckDB reads a
 * `key=value` folder as a hive partition and it would overwrite a column).
 */
export function validateRunName(what: 'experiment' | 'run id', name: string): void {
  const flag = what === 'experiment' ? '--experiment' : '--run-id';
  const problem =
    name === ''
      ? 'is empty'
      : name === '.' || name === '..'
        ? 'names a folder of its own (. or ..)'
        : /[/\\]/.test(name)
          ? 'contains a path separator'
          : /[\x00-\x1f\x7f]/.test(name)
            ? 'contains a control character'
            : name.includes('=')
              ? "contains '=' (a key=value folder reads as a hive partition column)"
              : name.startsWith('.')
                ? "starts with '.' (hidden folders are not scanned)"
                : name.length > 200
                  ? 'is longer than 200 characters'
                  : undefined;
  if (problem) {
    throw new CliError(`${flag} ${JSON.stringify(name)}: the ${what} ${problem}`, ExitCode.usage, [
      'use letters, digits, -, _ and . (e.g. moe-2026-11-23 or tp4_run1); it is one folder under runs/',
    ]);
  }
}

export interface CreateRunOptions {
  experiment: string;
  runId?: string;
  dataDir?: string;
  /** A run folder to use as is (overrides dataDir/experiment/runId placement). */
  dir?: string;
  config?: unknown;
  servers?: unknown;
  command?: string;
  shard?: number;
  /** Reopen an existing run (resume) instead of failing when it exists. */
  resume?: boolean;
}

const pkgVersion = (() => {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
})();

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.dirname(new URL(import.meta.url).pathname), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export class RunHandle {
  readonly dir: string;
  readonly id: string;
  readonly experiment: string;
  readonly shard: number;
  manifest: RunManifest;
  private writers = new Map<string, JsonlWriter>();

  constructor(dir: string, manifest: RunManifest, shard: number) {
    this.dir = dir;
    this.id = manifest.run;
    this.experiment = manifest.experiment;
    this.manifest = manifest;
    this.shard = shard;
  }

  /** The raw JSONL file of a table for this shard (gate logs go to raw/gates/<name>.jsonl). */
  rawFile(table: TableName, name?: string): string {
    if (table === 'gate_loads') return path.join(this.dir, 'raw', 'gates', `${name ?? `gates-${this.shard}`}.jsonl`);
    const suffix = this.shard === 0 ? '' : `-${this.shard}`;
    return path.join(this.dir, 'raw', `${table}${suffix}.jsonl`);
  }

  /** Lines already in this shard's raw file of a table (0 when there is none): what an earlier load wrote. */
  rawLineCount(table: TableName): number {
    const file = this.rawFile(table);
    this.writers.get(file)?.flush();
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return 0;
    }
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let lines = 0;
      for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
        const got = buf.subarray(0, n);
        for (let i = got.indexOf(10); i !== -1; i = got.indexOf(10, i + 1)) lines++;
      }
      return lines;
    } finally {
      fs.closeSync(fd);
    }
  }

  writer(table: TableName, name?: string): JsonlWriter {
    // Cached by (table, name): resolving the path on every append costs more than the write.
    const key = name === undefined ? table : `${table}/${name}`;
    let w = this.byTable.get(key);
    if (w) return w;
    const file = this.rawFile(table, name);
    w = this.writers.get(file);
    if (!w) {
      w = new JsonlWriter(file);
      this.writers.set(file, w);
    }
    this.byTable.set(key, w);
    return w;
  }
  private byTable = new Map<string, JsonlWriter>();

  /** Appends a record, filling run and shard. */
  append<T extends TableName>(table: T, record: Omit<RecordOf<T>, 'run' | 'shard'> & { run?: string; shard?: number }, name?: string): void {
    if (record.run !== undefined || record.shard !== undefined) {
      this.writer(table, name).write({ run: this.id, shard: this.shard, ...record });
      return;
    }
    // Same line as the spread above, without copying the record or concatenating strings (the
    // writer's hot path): the run/shard prefix is encoded once and merged in the writer's buffer.
    const json = JSON.stringify(record);
    const w = this.writer(table, name);
    if (json === '{}') w.writeLine(`${this.linePrefix.toString('utf8', 0, this.linePrefix.length - 1)}}\n`);
    else w.writeObjectWithPrefix(this.linePrefix, json);
  }

  /**
   * One request's `chunks` rows (idx = position), the same lines append('chunks', row) writes,
   * built from a template: a JSON.stringify per row was most of the load engine's record cost.
   */
  appendChunks(requestId: string, tNs: readonly number[], tokens: readonly (number | null)[]): void {
    const w = this.writer('chunks');
    const head = `${(this.chunkHead ??= `{"run":${JSON.stringify(this.id)},"shard":${this.shard},"request_id":`)}${JSON.stringify(requestId)},"idx":`;
    for (let i = 0; i < tNs.length; i++) {
      const t = tNs[i]!;
      const n = tokens[i] ?? null;
      // a number JSON cannot spell (NaN, Infinity) takes the general path, which writes null
      if (Number.isFinite(t) && (n === null || Number.isFinite(n))) w.writeLine(`${head}${i},"t_ns":${t},"tokens":${n}}\n`);
      else this.append('chunks', { request_id: requestId, idx: i, t_ns: t, tokens: n });
    }
  }
  private chunkHead: string | undefined;

  private get linePrefix(): Buffer {
    return (this.prefix ??= Buffer.from(`{"run":${JSON.stringify(this.id)},"shard":${this.shard},`));
  }
  private prefix: Buffer | undefined;

  flush(): void {
    for (const w of this.writers.values()) w.flush();
  }

  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const [file, w] of this.writers) c[path.relative(this.dir, file)] = w.count;
    return c;
  }

  /** Writes the manifest (atomically), with credentials scrubbed (core/credentials.ts). */
  updateManifest(patch: Partial<RunManifest>): void {
    const m = scrubSecrets({ ...this.manifest, ...patch });
    if (typeof m.command === 'string') m.command = scrubCommand(m.command);
    this.manifest = m;
    writeFileAtomic(path.join(this.dir, 'manifest.json'), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  /** Closes every writer (fsync) and records the final status. */
  finish(status: 'complete' | 'incomplete' | 'failed', error?: string): void {
    for (const w of this.writers.values()) w.close();
    this.updateManifest({
      status,
      finished_unix_ms: Date.now(),
      counts: { ...((this.manifest.counts as object | null) ?? {}), ...this.counts() },
      ...(error ? { error } : {}),
    });
  }
}

export function createRun(opts: CreateRunOptions): RunHandle {
  validateRunName('experiment', opts.experiment);
  if (opts.runId !== undefined) validateRunName('run id', opts.runId);
  const id = opts.runId ?? (opts.dir ? path.basename(opts.dir) : newRunId());
  const dir = opts.dir ?? path.join(runsRoot(opts.dataDir), opts.experiment, id);
  const manifestFile = path.join(dir, 'manifest.json');
  const shard = opts.shard ?? 0;
  if (fs.existsSync(manifestFile)) {
    if (!opts.resume && shard === 0) throw new CliError(`${dir}: run already exists: choose another --run-id, or resume it`, ExitCode.usage);
    const prior = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as RunManifest;
    const h = new RunHandle(dir, prior, shard);
    if (shard === 0) {
      fs.rmSync(path.join(dir, '.finalized'), { force: true });
      const extra = prior.extra && typeof prior.extra === 'object' ? (prior.extra as Record<string, unknown>) : {};
      h.updateManifest({ status: 'running', finished_unix_ms: null, extra: { ...extra, writer_pid: process.pid } });
    }
    return h;
  }
  fs.mkdirSync(path.join(dir, 'raw'), { recursive: true });
  const manifest: RunManifest = {
    run: id,
    experiment: opts.experiment,
    status: 'running',
    started_unix_ms: Date.now(),
    finished_unix_ms: null,
    tool_version: pkgVersion,
    git_commit: gitCommit(),
    host: os.hostname(),
    command: opts.command ?? process.argv.slice(1).join(' '),
    config: (opts.config ?? null) as RunManifest['config'],
    servers: (opts.servers ?? null) as RunManifest['servers'],
    counts: null,
    error: null,
    // Lets `servelab runs repair` refuse a run whose writer is still alive on this host.
    extra: { writer_pid: process.pid },
  };
  const h = new RunHandle(dir, manifest, shard);
  h.updateManifest({});
  return h;
}
