// `servelab stages <run-dir>…`: builds the analysis stages (analysis/<stage>.sql) of a run into
// <run>/derived/, or of several runs together into --out, printing one line per stage.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../core/args.ts';
import { choiceList, usageError } from '../core/errors.ts';
import { loadStages, runStages } from './stages.ts';

export const spec: CommandSpec = {
  name: 'stages',
  summary: 'build the analysis stages of a run into derived/ (only those whose inputs changed)',
  description:
    'Each stage is analysis/<stage>.sql; its header names the tables and views (request_metrics, request_itl) it reads (inputs) and the stages it needs (depends). ' +
    'A stage is rebuilt when its SQL file, its input files or a dependency output is newer than derived/<stage>.parquet.',
  options: {
    only: { type: 'list', help: 'build only these stages (and what they depend on)', metavar: 'A,B' },
    force: { type: 'boolean', help: 'rebuild even when outputs are fresh' },
    lenient: { type: 'boolean', help: 'skip malformed raw lines of unfinalized runs (counted, the first named) instead of failing' },
    out: { type: 'string', help: 'output folder (required with several runs; default <run>/derived)', metavar: 'DIR' },
    list: { type: 'boolean', help: 'list the stages with their inputs, depends and grain, and exit' },
  },
  positionals: [{ name: 'run-dir', help: 'run folder(s) (data/runs/<experiment>/<run-id>)', variadic: true }],
  examples: [
    'servelab stages data/samples/runs/latency/sample-001',
    'servelab stages data/runs/loadtest/20261123-045101-a1b2 --only latency_summary --force',
    'servelab stages data/runs/moe/r1 data/runs/moe/r2 --out /tmp/moe-derived',
    'servelab stages --list',
  ],
};

/**
 * The stages that apply to these runs by default: an experiment's own stages are named
 * `<experiment>_*` (moe_cv, schedule_gantt…) and built only for runs of that experiment;
 * the rest (latency_*) apply to every run.
 */
export function stagesForRuns(runDirs: readonly string[], known: readonly string[]): string[] {
  const experiments = new Set(runDirs.map((d) => experimentOf(d)));
  const owned = (stage: string) => EXPERIMENT_STAGE_PREFIXES.find((e) => stage.startsWith(`${e}_`));
  return known.filter((s) => {
    const e = owned(s);
    return e === undefined || experiments.has(e);
  });
}

const EXPERIMENT_STAGE_PREFIXES = ['moe', 'schedule'] as const;

function experimentOf(runDir: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')) as { experiment?: string }).experiment ?? '';
  } catch {
    return path.basename(path.dirname(path.resolve(runDir)));
  }
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  if (opt.bool(p, 'list')) {
    const problems = new Map<string, string>();
    for (const s of loadStages(undefined, problems).values()) {
      process.stdout.write(`${s.name}\n  inputs: ${s.inputs.join(', ') || '(none)'}\n  depends: ${s.depends.join(', ') || '(none)'}\n  grain: ${s.grain}\n`);
    }
    for (const [name, problem] of problems) process.stdout.write(`${name} (not a valid stage)\n  ${problem}\n`);
    return 0;
  }
  if (p.positionals.length === 0) throw usageError('stages: missing RUN-DIR', [`usage: servelab stages RUN-DIR... [--only A,B] [--force]`]);
  if (p.positionals.length > 1 && !opt.str(p, 'out')) {
    throw usageError(`stages: ${p.positionals.length} run folders need --out DIR (one derived/ folder for all of them)`, [`e.g. ${spec.examples[2]}`]);
  }
  const only = opt.list(p, 'only');
  const known = [...loadStages(undefined, new Map()).keys()];
  for (const name of only) if (!known.includes(name)) throw usageError(`--only: ${choiceList(name, known)}`);
  const results = await runStages({
    runDirs: p.positionals,
    outDir: opt.str(p, 'out'),
    stages: only.length ? only : stagesForRuns(p.positionals, known),
    force: opt.bool(p, 'force'),
    lenient: opt.bool(p, 'lenient'),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  if (results.length === 0) process.stdout.write('no stages\n');
  return 0;
}
