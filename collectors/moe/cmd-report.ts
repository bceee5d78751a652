// `servelab moe report RUN`: builds the moe_* stages of an experiment run (when stale) and
// renders its self-contained HTML report (default <run>/report.html); prints the path.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { buildMoeReport } from './report.ts';

export const spec: CommandSpec = {
  name: 'moe report',
  summary: 'build the moe_* stages of a run and render report.html',
  options: {
    out: { type: 'string', short: 'o', help: 'output HTML file [default: <run>/report.html]', metavar: 'FILE' },
    force: { type: 'boolean', help: 'rebuild the stages even when fresh' },
  },
  positionals: [{ name: 'run-dir', help: 'the experiment run folder', required: true }],
  examples: ['servelab moe report data/runs/moe/20261123-051500-ab12'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const runDir = p.positionals[0]!;
  if (!fs.existsSync(path.join(runDir, 'manifest.json'))) throw new CliError(`${runDir}: not a run folder (no manifest.json)`);
  const r = await buildMoeReport(runDir, { out: opt.str(p, 'out'), force: opt.bool(p, 'force') });
  process.stdout.write(`report: ${r.file}\n`);
  return 0;
}
