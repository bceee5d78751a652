#!/usr/bin/env zx
// The load test / mixed-warfare experiment: each server of the config alone, then all mixed, into
// one run, on shared simulated GPUs by default; then the loadtest_* stages and the report.
// Every step is a servelab subcommand you can run alone.
//
// Steps:
//   1. servelab loadtest --config F --scenario mixed --run-id ID --shard 0          (all servers, weighted)
//   2. servelab sql "select endpoint, mean_concurrency from loadtest_summary …"      (requests each model held in flight)
//   3. for each server S of the config, alone with that many users (at least 1):
//        servelab loadtest --config F --only S --users N_S --scenario solo --run-id ID --shard 16·(i+1) --append
//   4. servelab stages RUN --only loadtest_summary,loadtest_analysis,loadtest_timeline,loadtest_contrast,loadtest_details
//   5. servelab report RUN                → RUN/report.html (reports/loadtest.md), whose path is printed last
// On the simulated server each step starts the preset's servers in its own process (--sim PRESET,
// default mixed-warfare-shared: Flash on Thinker's GPU 0); --separate uses mixed-warfare (own GPUs);
// --server NAME=URL (repeatable) loads real servers instead. --from RUN re-analyses an archived run.
import { fs, path } from 'zx';
import { spawnSync } from 'node:child_process';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { parseArgs, helpText, opt } = await import(path.join(root, 'core/args.ts'));
const { loadConfig } = await import(path.join(root, 'collectors/loadtest/config.ts'));
const { newRunId } = await import(path.join(root, 'core/run.ts'));
const self = process.argv.findIndex((a) => a.endsWith('loadtest.mjs'));

const spec = {
  name: 'pipelines/loadtest.mjs',
  summary: 'each server alone, then mixed, on shared simulated GPUs by default; the loadtest report',
  description:
    'The mixed load runs first; each server alone then gets as many users as it held requests in flight in the ' +
    'mixed load (mean concurrency, Little\'s law), so the only difference between solo and mixed is the other ' +
    'model. On the simulated server, servers that share GPUs ' +
    'time-slice them (a step takes k× its solo time while k models on its GPUs are busy).',
  options: {
    config: { type: 'string', help: 'the YAML config', default: 'data/configs/mixed_warfare.yaml', metavar: 'FILE' },
    quick: { type: 'boolean', help: '8 users, 6 s per load, 1 s ramp, 1 s grace, prompts of 600+ words, outputs of at most 32 tokens (under 90 s)' },
    'max-tokens': { type: 'integer', help: 'override prompts.max_tokens (the output cap)', min: 1 },
    'min-tokens': { type: 'integer', help: 'override prompts.min_tokens (prompt length)', min: 1 },
    users: { type: 'integer', help: 'override workload.users', min: 1 },
    duration: { type: 'number', help: 'override workload.duration_seconds (per load)', metavar: 'S' },
    'ramp-up': { type: 'number', help: 'override workload.ramp_up_seconds', metavar: 'S', min: 0 },
    grace: { type: 'number', help: 'seconds in-flight requests get at the end of each load', metavar: 'S' },
    sim: { type: 'string', help: 'simulated preset', default: 'mixed-warfare-shared', metavar: 'PRESET' },
    separate: { type: 'boolean', help: 'simulated servers on GPUs of their own (preset mixed-warfare): no contention' },
    server: { type: 'list', help: 'real servers instead of the simulated ones: NAME=URL, repeatable', metavar: 'NAME=URL' },
    workers: { type: 'integer', help: 'processes per load (loadtest --workers)', min: 1 },
    predict: { type: 'boolean', help: 'the serving model\'s prediction in the report (--no-predict: recorded only)', default: true },
    'run-id': { type: 'string', help: 'run id [default: a new timestamped one]' },
    from: { type: 'string', help: 're-analyse this archived run: stages and report only', metavar: 'RUN_DIR' },
    data: { type: 'string', help: 'run archive', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  },
  examples: [
    'npx zx pipelines/loadtest.mjs --quick',
    'npx zx pipelines/loadtest.mjs --quick --separate        # the control: no shared GPU',
    'npx zx pipelines/loadtest.mjs --config my.yaml --server Thinker=http://gpu1:8080 --server Flash=http://gpu1:8081',
    'npx zx pipelines/loadtest.mjs --from data/runs/loadtest/20261205-031500-ab12',
  ],
};

function fail(msg, code = 1) {
  console.error(`loadtest.mjs: ${msg}`);
  process.exit(code);
}

let p;
try {
  p = parseArgs(spec, process.argv.slice(self + 1));
} catch (err) {
  fail(err.message, err.exitCode ?? 2);
}
if (p.help) {
  console.log(helpText(spec));
  process.exit(0);
}

/** Runs one servelab step, its output shown as it comes; stops the pipeline when it fails. */
function step(n, total, args) {
  console.log(`[${n}/${total}] servelab ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/servelab.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  if (r.status !== 0) fail(`step ${n} failed (exit ${r.status}): servelab ${args.join(' ')}`, r.status ?? 1);
  return r.stdout ?? '';
}

const data = opt.str(p, 'data');
let runDir;
let cfg;
if (opt.str(p, 'from')) {
  runDir = path.resolve(opt.str(p, 'from'));
  if (!fs.existsSync(path.join(runDir, 'manifest.json'))) fail(`--from ${opt.str(p, 'from')}: not a run folder (no manifest.json)`, 2);
} else {
  try {
    cfg = loadConfig(opt.str(p, 'config'));
  } catch (err) {
    fail(err.message + (err.details?.length ? `\n  ${err.details.join('\n  ')}` : ''), err.exitCode ?? 2);
  }
  const quick = opt.bool(p, 'quick');
  const users = opt.num(p, 'users') ?? (quick ? 8 : cfg.workload.users);
  const duration = opt.num(p, 'duration') ?? (quick ? 6 : cfg.workload.durationS);
  const ramp = opt.num(p, 'ramp-up') ?? (quick ? 1 : cfg.workload.rampUpS);
  const grace = opt.num(p, 'grace') ?? (quick ? 1 : 5);
  const maxTokens = opt.num(p, 'max-tokens') ?? (quick ? 32 : cfg.prompts.maxTokens);
  // quick: long prompts, so a prefill (what TTFT waits for) lasts long next to the host's own scheduling delays
  const minTokens = opt.num(p, 'min-tokens') ?? (quick ? 600 : cfg.prompts.minTokens);
  const servers = opt.list(p, 'server');
  const target = servers.length ? servers.flatMap((s) => ['--server', s]) : ['--sim', opt.bool(p, 'separate') ? 'mixed-warfare' : opt.str(p, 'sim')];
  const runId = opt.str(p, 'run-id') ?? newRunId();
  const common = ['--config', opt.str(p, 'config'), ...target, '--duration', String(duration), '--ramp-up', String(ramp), '--grace', String(grace), '--max-tokens', String(maxTokens), '--min-tokens', String(minTokens), '--run-id', runId, '--data', data, '--results', path.join(data, 'results')];
  if (opt.num(p, 'workers')) common.push('--workers', String(opt.num(p, 'workers')));
  if (!opt.bool(p, 'predict')) common.push('--no-predict');
  const eps = cfg.endpoints;
  const total = eps.length + 4;
  // 1. All mixed; 2. how many requests each model held in flight; 3. each alone with that many users.
  step(1, total, ['loadtest', ...common, '--users', String(users), '--scenario', 'mixed', '--shard', '0']);
  const held = JSON.parse(
    step(2, total, ['sql', `select endpoint, mean_concurrency from loadtest_summary where run = '${runId.replace(/'/g, "''")}' and scenario = 'mixed' and endpoint <> '*'`, '--data', data, '--format', 'json', '--lenient']),
  );
  eps.forEach((e, i) => {
    const n = Math.max(1, Math.round(held.find((h) => h.endpoint === e.name)?.mean_concurrency ?? 1));
    step(i + 3, total, ['loadtest', ...common, '--only', e.name, '--users', String(n), '--scenario', 'solo', '--shard', String(16 * (i + 1)), '--append']);
  });
  runDir = path.resolve(data, 'runs', 'loadtest', runId);
}
const n0 = cfg ? cfg.endpoints.length + 2 : 0;
const total = n0 + 2;
// 3. The stages; 4. the report.
step(n0 + 1, total, ['stages', runDir, '--only', 'loadtest_summary,loadtest_analysis,loadtest_timeline,loadtest_contrast,loadtest_details']);
const out = step(n0 + 2, total, ['report', runDir]);
console.log(`report: ${out.trim().split('\n').pop()}`);
