// `servelab notebook render | new | preview`: report notebooks (reports/NOTEBOOKS.md) rendered
// into one self-contained HTML file, copied from a built-in one, or previewed on 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { opt, parseOrHelp, type CommandSpec, type Parsed } from '../core/args.ts';
import { ExitCode, choiceList, usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { pickSubcommand, subcommandLines } from '../core/subcommands.ts';
import { builtinNotebooks, REPORTS_DIR } from './notebook/parse.ts';
import { renderNotebook, type RenderOptions } from './notebook/render.ts';

const runOptions = {
  run: { type: 'list', metavar: 'RUN', help: 'run folder or id (NAME=RUN for each of the notebook\'s runs:)' },
  param: { type: 'list', short: 'p', metavar: 'K=V', help: 'override a front-matter parameter' },
  data: { type: 'string', metavar: 'DIR', help: 'archive to look a run id up in [default: data or $SERVELAB_DATA]' },
  derived: { type: 'string', metavar: 'DIR', help: 'folder for the stage outputs [default: <run>/derived]' },
  force: { type: 'boolean', help: 'rebuild the stages even when fresh' },
} as const;

export const renderSpec: CommandSpec = {
  name: 'notebook render',
  summary: 'render a notebook over a run into one self-contained HTML file',
  description:
    'Builds the analysis stages the notebook names (when stale), runs its SQL cells in DuckDB over the run, and writes\n' +
    'the page: charts, tables with CSV downloads, nothing fetched. The format: reports/NOTEBOOKS.md.',
  options: {
    ...runOptions,
    out: { type: 'string', short: 'o', metavar: 'FILE', help: 'output HTML file [default: <run>/<notebook>.html]' },
  },
  positionals: [{ name: 'notebook', help: 'a notebook file (.md), or the name of a built-in one (latency, moe, schedule, …)', required: true }],
  examples: [
    'servelab notebook render reports/latency.md --run data/samples/runs/latency/sample-001 --out /tmp/latency.html',
    'servelab notebook render my-moe.md --run moe/20261201-101500-ab12 --param metric=tpot',
    'servelab notebook render compare.md --run base=RUN1 --run lora=RUN2',
  ],
};

export const newSpec: CommandSpec = {
  name: 'notebook new',
  summary: 'copy a built-in notebook to edit',
  options: {
    from: { type: 'string', metavar: 'NAME', help: 'built-in notebook to copy', default: 'latency' },
    force: { type: 'boolean', help: 'overwrite an existing file' },
  },
  positionals: [{ name: 'name', help: 'the new notebook: NAME.md in the current folder (or a path ending in .md)', required: true }],
  examples: ['servelab notebook new my-moe --from moe', 'servelab notebook render my-moe.md --run RUN'],
};

export const previewSpec: CommandSpec = {
  name: 'notebook preview',
  summary: 'serve a notebook on 127.0.0.1; re-render when it or the run changes',
  description: 'The page reloads itself after each re-render. An error is shown on the page until the notebook renders again.',
  options: {
    ...runOptions,
    port: { type: 'integer', metavar: 'N', help: 'port to listen on (0 = any free one)', default: 0, min: 0 },
  },
  positionals: [{ name: 'notebook', help: 'a notebook file (.md) or a built-in name', required: true }],
  examples: ['servelab notebook preview my-moe.md --run moe/20261201-101500-ab12', 'servelab notebook preview reports/latency.md --run data/samples/runs/latency/sample-001 --port 8800'],
};

const subs = {
  render: { summary: renderSpec.summary, spec: renderSpec, run: renderCmd },
  new: { summary: newSpec.summary, spec: newSpec, run: newCmd },
  preview: { summary: previewSpec.summary, spec: previewSpec, run: previewCmd },
};

export function help(): string {
  return [
    'usage: servelab notebook <subcommand> [options]     (servelab notebook <subcommand> --help)',
    '',
    'Report notebooks: Markdown with SQL, Vega-Lite and table cells (reports/NOTEBOOKS.md).',
    '',
    'Subcommands:',
    ...subcommandLines(subs),
    '',
    'Examples:',
    '  servelab notebook render reports/latency.md --run data/samples/runs/latency/sample-001',
    '  servelab notebook new my-moe --from moe',
    '  servelab notebook preview my-moe.md --run RUN',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const picked = pickSubcommand('notebook', subs, argv);
  if (picked.kind === 'help') {
    process.stdout.write(help() + '\n');
    return picked.code;
  }
  const p = parseOrHelp(picked.entry.spec, picked.rest);
  if (!p) return ExitCode.ok;
  return picked.entry.run(p);
}

/** A notebook argument: a file, or the name of a built-in notebook. */
export function notebookFile(arg: string): string {
  if (fs.existsSync(arg)) return path.resolve(arg);
  if (!arg.endsWith('.md') && !arg.includes('/')) {
    const builtin = path.join(REPORTS_DIR, `${arg}.md`);
    if (fs.existsSync(builtin)) return builtin;
    throw usageError(`notebook: ${choiceList(arg, builtinNotebooks())} (or give a .md file)`);
  }
  throw usageError(`${arg}: no such notebook`, [`built-in notebooks: ${builtinNotebooks().join(', ')}`]);
}

function renderOptions(p: Parsed): RenderOptions {
  const runs = opt.list(p, 'run') ?? [];
  if (runs.length === 0) throw usageError('notebook: give the run with --run RUN (servelab runs ls lists them)');
  return { runs, params: opt.list(p, 'param'), dataDir: opt.str(p, 'data'), derived: opt.str(p, 'derived'), force: opt.bool(p, 'force') };
}

async function renderCmd(p: Parsed): Promise<number> {
  const file = notebookFile(p.positionals[0]!);
  const r = await renderNotebook(file, renderOptions(p));
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const out = path.resolve(opt.str(p, 'out') ?? path.join(r.runDirs[0]!, `${path.basename(file, '.md')}.html`));
  writeFileAtomic(out, r.html);
  process.stdout.write(`${out}\n`);
  return ExitCode.ok;
}

async function newCmd(p: Parsed): Promise<number> {
  const from = opt.str(p, 'from')!;
  const src = path.join(REPORTS_DIR, `${from}.md`);
  if (!fs.existsSync(src)) throw usageError(`--from: ${choiceList(from, builtinNotebooks())}`);
  const name = p.positionals[0]!;
  const dest = path.resolve(name.endsWith('.md') ? name : `${name}.md`);
  if (fs.existsSync(dest) && !opt.bool(p, 'force')) throw usageError(`${dest}: already exists (--force overwrites it)`);
  // Includes (sections/…) resolve beside the copy first, then in the built-in folder.
  writeFileAtomic(dest, fs.readFileSync(src, 'utf8'));
  process.stdout.write(`${dest}\n`);
  process.stderr.write(`render it with: servelab notebook render ${path.relative(process.cwd(), dest)} --run RUN\n`);
  return ExitCode.ok;
}

async function previewCmd(p: Parsed): Promise<number> {
  const { startPreview } = await import('./notebook/preview.ts');
  const file = notebookFile(p.positionals[0]!);
  const server = await startPreview(file, { ...renderOptions(p), port: opt.num(p, 'port') ?? 0 });
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`previewing ${file}; re-renders on save. Ctrl-C stops.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return ExitCode.ok;
}
