// `servelab report <run>`: builds the latency stages a run needs (when stale) and renders its
// self-contained HTML report, by default <run>/report.html; prints the path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../core/args.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { readManifest, resolveRun } from '../analysis/runstore.ts';
import { runStages } from '../analysis/stages.ts';
import { renderReport } from './html.ts';
import { LATENCY_STAGES, buildLatencyReport, type LatencyStage } from './latency-report.ts';
import { SCHEDULE_STAGES, buildScheduleReport, type ScheduleStage } from './schedule-report.ts';

export const spec: CommandSpec = {
  name: 'report',
  summary: "render a run's report (latency; scheduling or MoE runs get theirs) as one self-contained HTML file",
  description:
    'Builds the stages the report reads (latency_summary, latency_quantiles, latency_timeline) when their inputs changed, ' +
    'then writes the report. Stage outputs go to <run>/derived/ (or a temp folder when the run folder is read-only).',
  options: {
    out: { type: 'string', short: 'o', help: 'output HTML file [default: <run>/report.html]', metavar: 'FILE' },
    derived: { type: 'string', help: 'folder for the stage outputs [default: <run>/derived]', metavar: 'DIR' },
    force: { type: 'boolean', help: 'rebuild the stages even when fresh' },
    data: { type: 'string', help: 'archive to look a run id up in [default: data or $SERVELAB_DATA]', metavar: 'DIR' },
  },
  positionals: [{ name: 'run', help: 'run folder, or a run id (or experiment/run-id) in the archive', required: true }],
  examples: [
    'servelab report data/samples/runs/latency/sample-001 --out /tmp/report.html',
    'servelab report 20261123-045101-a1b2',
  ],
};

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const runDir = resolveRun(p.positionals[0]!, opt.str(p, 'data'));
  const outDir =
    opt.str(p, 'derived') ??
    (writable(runDir) ? path.join(runDir, 'derived') : path.join(os.tmpdir(), 'servelab-derived', path.basename(runDir)));
  const experiment = readManifest(runDir).experiment;
  // An MoE load-imbalance run (npx zx pipelines/moe.mjs) gets the MoE report (servelab moe report).
  if (experiment === 'moe') {
    const { buildMoeReport } = await import('../collectors/moe/report.ts');
    const r = await buildMoeReport(runDir, { out: opt.str(p, 'out'), force: opt.bool(p, 'force'), derived: outDir, log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`${r.file}\n`);
    return 0;
  }
  // A scheduling-simulator run (servelab simulate --run) gets the scheduling report.
  const schedule = experiment === 'schedule';
  const results = await runStages({
    runDir,
    outDir,
    stages: schedule ? SCHEDULE_STAGES : LATENCY_STAGES,
    force: opt.bool(p, 'force'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const outputs = Object.fromEntries(results.map((r) => [r.stage, r.output]));
  const html = renderReport(
    schedule
      ? await buildScheduleReport(runDir, outputs as Record<ScheduleStage, string>)
      : await buildLatencyReport(runDir, outputs as Record<LatencyStage, string>),
  );
  const out = path.resolve(opt.str(p, 'out') ?? path.join(runDir, 'report.html'));
  writeFileAtomic(out, html);
  process.stdout.write(`${out}\n`);
  return 0;
}
