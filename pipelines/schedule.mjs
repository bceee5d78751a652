#!/usr/bin/env zx
// The scheduling-simulator experiment: runs the seed comparison as a recorded run, builds its
// analysis stages and renders report.html. Every step is a servelab subcommand you can run alone.
//
// Steps:
//   1. servelab simulate … --run --run-id <id>     (flags below are passed through; default --mode both)
//   2. servelab stages <run> --only schedule_comparison,schedule_queue,schedule_gantt
//   3. servelab report <run>                       → <run>/report.html, whose path is printed last
// With --from <run dir>, step 1 is skipped and an archived run is re-analysed.
import { $, fs, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = ['node', path.join(root, 'bin/servelab.js')];
const self = process.argv.findIndex((a) => a.endsWith('schedule.mjs'));
const args = process.argv.slice(self + 1);

const HELP = `usage: npx zx pipelines/schedule.mjs [simulate flags] [--from RUN_DIR] [--data DIR]

Runs the scheduling comparison (FIFO, WeightedFIFO, SRPT, WSRPT) as a run of experiment
'schedule', builds the schedule_* analysis stages and renders the run's report.html.

Flags passed to 'servelab simulate' (see servelab simulate --help):
  --workload discriminating|staggered|both   [default: both]
  --cluster h100_8gpu|h100_16gpu|h100_32gpu|h100_64gpu
  --dt SECONDS  --max-time SECONDS  --algorithms ALG [ALG...]  --output FILE
  --mode discrete|event|both                 [default here: both]
  --preempt  --run-id ID
  --data DIR                                 run archive [default: data]
  --from RUN_DIR                             skip the simulation; re-analyse this run

Examples:
  npx zx pipelines/schedule.mjs
  npx zx pipelines/schedule.mjs --workload discriminating --cluster h100_16gpu --dt 0.01 --algorithms FIFO WSRPT
  npx zx pipelines/schedule.mjs --from data/runs/schedule/20261123-051200-ab12`;

if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}

$.verbose = false;
$.quiet = true;
const take = (flag) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`schedule.mjs: ${flag} needs a value`);
    process.exit(2);
  }
  args.splice(i, 2);
  return v;
};
const from = take('--from');

try {
  let runDir;
  if (from) {
    runDir = path.resolve(from);
    if (!fs.existsSync(path.join(runDir, 'manifest.json'))) throw new Error(`--from ${from}: not a run folder (no manifest.json)`);
  } else {
    // 1. Simulate and record.
    const simArgs = [...args];
    if (!simArgs.includes('--mode')) simArgs.push('--mode', 'both');
    if (!simArgs.includes('--run')) simArgs.push('--run');
    console.log('[1/3] servelab simulate', simArgs.join(' '));
    const sim = await $`${cli} simulate ${simArgs}`;
    process.stdout.write(sim.stdout);
    runDir = /^run: (.+)$/m.exec(sim.stdout)?.[1];
    if (!runDir) throw new Error('simulate did not report its run folder');
  }
  // 2. Analysis stages.
  console.log('[2/3] servelab stages', runDir);
  const stages = await $`${cli} stages ${runDir} --only schedule_comparison,schedule_queue,schedule_gantt`;
  process.stdout.write(stages.stdout);
  // 3. Report.
  console.log('[3/3] servelab report', runDir);
  const report = await $`${cli} report ${runDir}`;
  console.log(report.stdout.trim());
} catch (err) {
  // A failed step: its own message (servelab: …) and exit code.
  const stderr = err?.stderr?.trim();
  console.error(stderr || String(err?.message ?? err));
  process.exit(typeof err?.exitCode === 'number' && err.exitCode > 0 ? err.exitCode : 1);
}
