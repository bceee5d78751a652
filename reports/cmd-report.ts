// `servelab report <run>`: renders the built-in notebook of the run's experiment
// (reports/<experiment>.md, the latency notebook when there is none) into one self-contained
// HTML file, by default <run>/report.html; prints the path.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../core/args.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { readManifest, resolveRun } from '../analysis/runstore.ts';
import { REPORTS_DIR } from './notebook/parse.ts';
import { renderNotebook } from './notebook/render.ts';

export const spec: CommandSpec = {
  name: 'report',
  summary: "render a run's report: the built-in notebook of its experiment (reports/<experiment>.md) as one self-contained HTML file",
  description:
    'Picks reports/<experiment>.md by the run manifest\'s experiment (reports/latency.md when there is none), builds the\n' +
    'stages it reads when their inputs changed, and writes the page. Stage outputs go to <run>/derived/ (or a temp folder\n' +
    'when the run folder is read-only). To change a report: servelab notebook new mine --from <experiment>.',
  options: {
    out: { type: 'string', short: 'o', help: 'output HTML file [default: <run>/report.html]', metavar: 'FILE' },
    derived: { type: 'string', help: 'folder for the stage outputs [default: <run>/derived]', metavar: 'DIR' },
    param: { type: 'list', short: 'p', metavar: 'K=V', help: 'override a parameter of the notebook' },
    force: { type: 'boolean', help: 'rebuild the stages even when fresh' },
    data: { type: 'string', help: 'archive to look a run id up in [default: data or $SERVELAB_DATA]', metavar: 'DIR' },
  },
  positionals: [{ name: 'run', help: 'run folder, or a run id (or experiment/run-id) in the archive', required: true }],
  examples: [
    'servelab report data/samples/runs/latency/sample-001 --out /tmp/report.html',
    'servelab report 20261123-045101-a1b2',
    'servelab report moe/20261201-101500-ab12 --param metric=tpot',
  ],
};

/** The built-in notebook of an experiment: reports/<experiment>.md, else the latency notebook. */
export function notebookFor(experiment: string | null | undefined): string {
  const own = experiment && /^[A-Za-z0-9_-]+$/.test(experiment) ? path.join(REPORTS_DIR, `${experiment}.md`) : undefined;
  return own && fs.existsSync(own) ? own : path.join(REPORTS_DIR, 'latency.md');
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const runDir = resolveRun(p.positionals[0]!, opt.str(p, 'data'));
  const file = notebookFor(readManifest(runDir).experiment);
  const r = await renderNotebook(file, { runs: [runDir], params: opt.list(p, 'param'), derived: opt.str(p, 'derived'), force: opt.bool(p, 'force') });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const out = path.resolve(opt.str(p, 'out') ?? path.join(runDir, 'report.html'));
  writeFileAtomic(out, r.html);
  process.stdout.write(`${out}\n`);
  return 0;
}
