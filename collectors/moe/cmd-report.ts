// `servelab moe report RUN`: renders the MoE notebook (reports/moe.md) over an experiment run,
// building the moe_* stages it reads when stale; default output <run>/report.html.
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { resolveRun } from '../../analysis/runstore.ts';
import { REPORTS_DIR } from '../../reports/notebook/parse.ts';
import { renderNotebook } from '../../reports/notebook/render.ts';

export const spec: CommandSpec = {
  name: 'moe report',
  summary: 'build the moe_* stages of a run and render its report (reports/moe.md) into report.html',
  description: 'The same as servelab report RUN on an MoE run. To change the report: servelab notebook new mine --from moe.',
  options: {
    out: { type: 'string', short: 'o', help: 'output HTML file [default: <run>/report.html]', metavar: 'FILE' },
    param: { type: 'list', short: 'p', metavar: 'K=V', help: 'override a notebook parameter (metric, x)' },
    force: { type: 'boolean', help: 'rebuild the stages even when fresh' },
  },
  positionals: [{ name: 'run-dir', help: 'the experiment run folder (or its id)', required: true }],
  examples: ['servelab moe report data/runs/moe/20261123-051500-ab12', 'servelab moe report data/runs/moe/20261123-051500-ab12 --param metric=ttft'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const runDir = resolveRun(p.positionals[0]!);
  const r = await renderNotebook(path.join(REPORTS_DIR, 'moe.md'), { runs: [runDir], params: opt.list(p, 'param'), force: opt.bool(p, 'force') });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const file = path.resolve(opt.str(p, 'out') ?? path.join(runDir, 'report.html'));
  writeFileAtomic(file, r.html);
  process.stdout.write(`report: ${file}\n`);
  return 0;
}
