// `servelab moe ingest RUN DIR --group G`: gate logs into a run's gate_loads table, one group
// (dataset) per directory; with --all, every gates_logs_XX subdirectory of a folder.
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { gateLogDirs } from './gatelogs.ts';
import { ingestGateDir, openRunHandle } from './ingest.ts';

export const spec: CommandSpec = {
  name: 'moe ingest',
  summary: "read gate_logs_* files into a run's gate_loads table (raw/gates/<group>.jsonl)",
  description: 'source = <group>/<file stem>; the MoE stages (analysis/moe/*.sql) group by the part before the last /.',
  options: {
    group: { type: 'string', help: 'group name for DIR, e.g. baseline/007_0.4907 (default: the directory name)', metavar: 'NAME' },
    all: { type: 'boolean', help: 'DIR holds gates_logs_XX subdirectories: ingest each as <prefix>/<subdirectory>' },
    prefix: { type: 'string', help: 'with --all: group prefix, e.g. the backend name', metavar: 'NAME' },
  },
  positionals: [
    { name: 'run-dir', help: 'the run folder', required: true },
    { name: 'dir', help: 'directory of gate_logs_* files', required: true },
  ],
  examples: [
    'servelab moe ingest data/runs/moe/20261123-050000-ab12 gates/baseline/007_0.4907 --group baseline/007_0.4907',
    'servelab moe ingest data/runs/moe/r1 baseline_gates_logs --all --prefix baseline',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const [runDir, dir] = p.positionals as [string, string];
  const handle = openRunHandle(runDir);
  const prefix = opt.str(p, 'prefix');
  const jobs = opt.bool(p, 'all')
    ? gateLogDirs(dir).map((d) => ({ dir: d, group: prefix ? `${prefix}/${path.basename(d)}` : path.basename(d) }))
    : [{ dir, group: opt.str(p, 'group') ?? path.basename(path.resolve(dir)) }];
  for (const j of jobs) {
    const r = await ingestGateDir(handle, j.dir, j.group);
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${r.group}: ${r.lines} lines → ${r.records} gate_loads records in ${path.relative(process.cwd(), r.file)}\n`);
  }
  return 0;
}
