// `servelab runs ls | show | finalize | repair`: the archive's runs, one run's manifest and
// files, and turning raw JSONL into Parquet (repair: a run whose writer died mid-run).
import fs from 'node:fs';
import path from 'node:path';
import { type CommandSpec, type OptionSpec, type Parsed, opt, parseOrHelp } from '../core/args.ts';
import { CliError, ExitCode, choiceList, usageError } from '../core/errors.ts';
import { message } from '../core/messages.ts';
import { formatBytes, formatTable } from '../core/output.ts';
import { subcommandLines } from '../core/subcommands.ts';
import { defaultDataDir, finalizeRun, findRunDirs, pruneRun, rawFiles, resolveRun, runInfo, type RunInfo } from './runstore.ts';
import { type TableDef, tables } from '../core/schema.ts';

const data: OptionSpec = { type: 'string', metavar: 'DIR', help: 'archive root holding runs/ (or $SERVELAB_DATA)', default: 'data' };
const lenient: OptionSpec = { type: 'boolean', help: 'skip and count malformed lines instead of stopping at the first' };
const runArg = { name: 'run', required: true, help: 'run folder, run id, or experiment/run-id' } as const;

const specs = {
  ls: {
    name: 'runs ls',
    summary: 'list the runs of an archive: experiment, run, status, start, requests, finalized, size on disk',
    options: { data, json: { type: 'boolean', help: 'one JSON object per run (NDJSON)' } },
    examples: ['servelab runs ls', 'servelab runs ls --data data/samples'],
  },
  show: {
    name: 'runs show',
    summary: "a run's manifest, files and record counts",
    options: { data, json: { type: 'boolean', help: 'print the manifest as JSON' } },
    positionals: [runArg],
    examples: ['servelab runs show sample-001 --data data/samples', 'servelab runs show data/runs/moe/20261123-051500-ab12'],
  },
  finalize: {
    name: 'runs finalize',
    summary: 'write <run>/<table>.parquet from the raw JSONL with the contract types (atomic; fsync)',
    description: 'A torn last line (crash mid-write) is skipped and reported. A malformed line elsewhere stops with file:line: field: problem, unless --lenient.',
    options: { data, lenient },
    positionals: [runArg],
    examples: [
      'cp -r data/samples /tmp/archive && servelab runs finalize latency/sample-001 --data /tmp/archive   # finalize rewrites the manifest: use a copy of the committed sample',
      'servelab runs finalize data/runs/moe/20261123-051500-ab12 --lenient',
    ],
  },
  prune: {
    name: 'runs prune',
    summary: 'remove raw JSONL that a verified finalize already holds in Parquet (gate logs by default; --all for every table)',
    description:
      'Only finalized runs whose Parquet row counts match the counts finalize recorded are pruned; the tables pruned are noted\n' +
      'in the manifest, and a later finalize (after a resume) keeps their Parquet rows and adds the new raw ones.',
    options: {
      data,
      all: { type: 'boolean', help: 'every raw table file, not only gate loads (raw/gates/)' },
      'dry-run': { type: 'boolean', help: 'say what would be removed, remove nothing' },
    },
    positionals: [{ name: 'run', help: 'run folder, run id, or experiment/run-id (default: every run of the archive)' }],
    examples: ['servelab runs prune moe/20261123-051500-ab12', 'servelab runs prune --dry-run', 'servelab runs prune --all --data /tmp/archive'],
  },
  repair: {
    name: 'runs repair',
    summary: 'finalize a run left `running` by a writer that died (kill -9, crash) and mark it incomplete',
    options: { data, lenient },
    positionals: [runArg],
    examples: ['servelab runs repair latency/sample-001 --data /tmp/archive   # the copy made for finalize', 'servelab runs repair moe/20261123-051500-ab12 --lenient'],
  },
} satisfies Record<string, CommandSpec>;

type Sub = keyof typeof specs;
const SUBS = Object.keys(specs) as Sub[];

function groupHelp(): string {
  return [
    'usage: servelab runs <ls|show|finalize|prune|repair> [options]',
    '',
    ...subcommandLines(specs),
    '',
    'Examples:',
    ...SUBS.map((s) => `  ${specs[s].examples[0]}`),
    '',
    "servelab runs <sub> --help shows a subcommand's flags.",
  ].join('\n');
}

const handlers: { [K in Sub]: (p: Parsed, dataDir: string) => Promise<number> } = {
  async ls(p, dataDir) {
    if (!fs.existsSync(dataDir)) throw new CliError(message.noDataDir(dataDir));
    // One run with a broken manifest is listed as unreadable (and warned about); the others still list.
    const runs: RunInfo[] = [];
    const broken: { dir: string; problem: string }[] = [];
    for (const dir of findRunDirs(dataDir)) {
      try {
        runs.push(runInfo(dir));
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        broken.push({ dir, problem: err.message });
      }
    }
    for (const b of broken) process.stderr.write(`warning: ${b.problem}\n`);
    const done = broken.length ? ExitCode.failure : ExitCode.ok;
    if (runs.length === 0 && broken.length === 0) {
      process.stderr.write(`${message.emptyArchive(dataDir)}\n`);
      return ExitCode.ok;
    }
    const unreadable = broken.map((b) => ({ experiment: path.basename(path.dirname(b.dir)), run: path.basename(b.dir), status: 'unreadable', started: null, requests: null, finalized: false, bytes: dirBytes(b.dir), dir: b.dir }));
    const all = [...runs.map(lsRow), ...unreadable];
    if (opt.bool(p, 'json')) {
      for (const r of all) process.stdout.write(`${JSON.stringify(r)}\n`);
      return done;
    }
    const rows = all.map((r) => [r.experiment, r.run, r.status, r.started, r.requests, r.finalized ? 'yes' : 'no', formatBytes(r.bytes)]);
    process.stdout.write(`${formatTable(['experiment', 'run', 'status', 'started', 'requests', 'finalized', 'size'], rows)}\n`);
    return done;
  },

  async show(p, dataDir) {
    const info = runInfo(resolveRun(p.positionals[0]!, dataDir));
    if (opt.bool(p, 'json')) {
      process.stdout.write(`${JSON.stringify({ dir: info.dir, finalized: info.finalized, manifest: info.manifest }, null, 2)}\n`);
      return ExitCode.ok;
    }
    const m = info.manifest;
    const lines: [string, unknown][] = [
      ['run', `${info.experiment}/${info.run}`],
      ['folder', info.dir],
      ['status', m.status],
      ['started', isoTime(m.started_unix_ms)],
      ['finished', isoTime(m.finished_unix_ms)],
      ['finalized', info.finalized ? 'yes' : 'no'],
      ['host', m.host],
      ['command', m.command],
      ['tool', m.tool_version ? `servelab ${m.tool_version}${m.git_commit ? ` (${m.git_commit.slice(0, 12)})` : ''}` : null],
      ['error', m.error],
      ['counts', m.counts ? JSON.stringify(m.counts) : null],
      ['config', m.config ? JSON.stringify(m.config) : null],
    ];
    for (const [k, v] of lines) if (v !== null && v !== undefined) process.stdout.write(`${k.padEnd(10)} ${String(v)}\n`);
    const files = (Object.values(tables) as TableDef[]).flatMap((t) => [
      ...rawFiles(info.dir, t).map((f) => [t.name, path.relative(info.dir, f), formatBytes(fs.statSync(f).size), lineCount(f)]),
      ...(fs.existsSync(path.join(info.dir, `${t.name}.parquet`))
        ? [[t.name, `${t.name}.parquet`, formatBytes(fs.statSync(path.join(info.dir, `${t.name}.parquet`)).size), recordsOf(m, t.name)]]
        : []),
    ]);
    if (files.length) process.stdout.write(`\n${formatTable(['table', 'file', 'size', 'records'], files)}\n`);
    if (m.status === 'running') process.stderr.write(`${message.runStillRunning(info.run)}\n`);
    return ExitCode.ok;
  },

  async finalize(p, dataDir) {
    return finalizeCmd(p, dataDir, false);
  },

  async repair(p, dataDir) {
    return finalizeCmd(p, dataDir, true);
  },

  async prune(p, dataDir) {
    const ref = p.positionals[0];
    if (!ref && !fs.existsSync(dataDir)) throw new CliError(message.noDataDir(dataDir));
    const dirs = ref ? [resolveRun(ref, dataDir)] : findRunDirs(dataDir);
    const dry = opt.bool(p, 'dry-run');
    const rows: unknown[][] = [];
    let freed = 0;
    for (const dir of dirs) {
      const r = await pruneRun(dir, { all: opt.bool(p, 'all'), dryRun: dry });
      if (r.skipped) process.stderr.write(`${path.relative(process.cwd(), dir) || dir}: not pruned: ${r.skipped}\n`);
      for (const f of r.removed) rows.push([path.relative(dataDir, dir) || dir, path.relative(dir, f.file), formatBytes(f.bytes)]);
      freed += r.removed.reduce((a, f) => a + f.bytes, 0);
    }
    if (rows.length) process.stdout.write(`${formatTable(['run', dry ? 'would remove' : 'removed', 'size'], rows)}\n`);
    process.stdout.write(`${dry ? 'would free' : 'freed'} ${formatBytes(freed)} in ${dirs.length} run(s)\n`);
    return ExitCode.ok;
  },
};

/** Bytes under a folder (the run's size on disk, without following links). */
function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(f);
    else if (e.isFile()) n += fs.statSync(f).size;
  }
  return n;
}

async function finalizeCmd(p: Parsed, dataDir: string, repair: boolean): Promise<number> {
  const dir = resolveRun(p.positionals[0]!, dataDir);
  const t0 = performance.now();
  const r = await finalizeRun(dir, { lenient: opt.bool(p, 'lenient'), repair });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const t of r.tables) for (const prob of t.problems) process.stderr.write(`  skipped: ${prob}\n`);
  const rows = r.tables.map((t) => [t.table, t.files, t.records, t.torn.length, t.skipped]);
  if (rows.length) process.stdout.write(`${formatTable(['table', 'files', 'records', 'torn', 'skipped'], rows)}\n`);
  const total = r.tables.reduce((a, t) => a + t.records, 0);
  process.stdout.write(`${message.finalized(r.run, total, r.tables.length, (performance.now() - t0) / 1000)}; status ${r.status}\n`);
  if (repair && r.status === 'incomplete') process.stdout.write(`${message.repaired(r.run)}\n`);
  return ExitCode.ok;
}

function lsRow(r: RunInfo) {
  const counts = (r.manifest.counts ?? {}) as Record<string, unknown>;
  const requests = typeof counts.requests === 'number' ? counts.requests : rawFiles(r.dir, tables.requests).reduce((a, f) => a + lineCount(f), 0);
  return { experiment: r.experiment, run: r.run, status: r.manifest.status, started: isoTime(r.manifest.started_unix_ms), requests, finalized: r.finalized, bytes: dirBytes(r.dir), dir: r.dir };
}

function recordsOf(m: RunInfo['manifest'], table: string): number | string {
  const n = (m.counts as Record<string, unknown> | null)?.[table];
  return typeof n === 'number' ? n : '';
}

function isoTime(ms: number | null | undefined): string | null {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : null;
}

/** Newline count of a file (complete lines). */
function lineCount(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n = 0;
    let got: number;
    while ((got = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      for (let i = buf.indexOf(10); i >= 0 && i < got; i = buf.indexOf(10, i + 1)) n++;
    }
    return n;
  } finally {
    fs.closeSync(fd);
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${groupHelp()}\n`);
    return sub ? ExitCode.ok : ExitCode.usage;
  }
  if (!(SUBS as string[]).includes(sub)) throw usageError(`runs: ${choiceList(sub, SUBS)}`, [groupHelp().split('\n')[0]!]);
  const spec: CommandSpec = specs[sub as Sub];
  const p = parseOrHelp(spec, rest);
  if (!p) return ExitCode.ok;
  const dataArg = opt.str(p, 'data');
  const dataDir = rest.some((a) => a === '--data' || a.startsWith('--data=')) ? dataArg! : defaultDataDir();
  return handlers[sub as Sub](p, dataDir);
}
