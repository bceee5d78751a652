#!/usr/bin/env zx
// The round-robin GPU-imbalance experiment end to end: the generator under each balancer policy
// (the feedback loop should grow under round-robin and collapse under load-aware policies), then
// the round-robin prompts file replayed under each policy; every step is a servelab subcommand.
//
// Steps:
//   1. servelab imbalance init                 → data/runs/imbalance/<run-id>
//   2. for each policy (round-robin first):
//      a. start the front: the simulated server's imbalance preset with --routing P (default), or
//         servelab imbalance balance --backends URL,… --routing P in front of real servers (--backends)
//      b. servelab imbalance generate --run R --shard 2i+1 --label P     (prompts → R/raw/prompts-P.txt)
//      c. servelab imbalance replay --run R --shard 2i+2 --label P --prompts-file R/raw/prompts-round-robin.txt --loop
//      d. stop the front
//   3. servelab imbalance finish R             (manifest status, servers)
//   4. servelab runs finalize R                (raw JSONL → Parquet)
//   5. servelab sim predict R                  (the serving model's prediction of the same requests; --no-predict skips it)
//   6. servelab report R                       (imbalance_* stages → report.html from reports/imbalance.md)
// --from RUN re-analyses an archived run (step 6 only), with no server.
import { $, fs, path } from 'zx';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { parseArgs, helpText } = await import(path.join(root, 'core/args.ts'));
const { ROUTERS } = await import(path.join(root, 'simulator/cluster.ts'));
const launchers = await import(path.join(root, 'collectors/launchers/index.ts'));
const cli = ['node', path.join(root, 'bin/servelab.js')];
const self = process.argv.findIndex((a) => a.endsWith('imbalance.mjs'));
const args = process.argv.slice(self + 1);

const spec = {
  name: 'imbalance.mjs',
  summary: 'the round-robin GPU-imbalance experiment: generator and replay under each balancer policy, then the report',
  description:
    'On the simulated server (4 GPUs, Llama-3-8B) by default; with --backends, against real servers through servelab imbalance balance. ' +
    'Default: every policy, 40 s of generation and 40 s of replay each (about 8 minutes); --quick: three policies, 6 s + 4 s each (under 90 s).',
  options: {
    quick: { type: 'boolean', help: 'round-robin, least-outstanding, power-of-two; 6 s generate + 4 s replay each; --concurrency-from client' },
    policies: { type: 'list', help: 'balancer policies (round-robin always runs first: replay uses its prompts)', choices: ROUTERS },
    duration: { type: 'number', short: 't', help: 'seconds of generation per policy [default: 40; 6 with --quick]', metavar: 'S' },
    'replay-duration': { type: 'number', help: 'seconds of replay per policy [default: the generation\'s; 4 with --quick]', metavar: 'S' },
    'num-gpus': { type: 'integer', short: 'n', help: 'GPUs behind the front', default: 4, min: 1 },
    'max-concurrency': { type: 'integer', help: 'requests in flight (the generator\'s slots)', default: 128, min: 1 },
    'max-prompt': { type: 'integer', help: 'largest prompt in words (Llama-3-8B\'s context is 8,192 tokens)', default: 6000, min: 1 },
    'warmup-loops': { type: 'integer', short: 'm', help: 'warm-up loops of k^n … k^1 words', default: 3, min: 0 },
    'exp-base': { type: 'integer', short: 'k', help: 'warm-up base (minimum 2)', default: 2, min: 2 },
    'concurrency-from': {
      type: 'string', choices: ['metrics', 'client'],
      help: 'what sizes the prompts: metrics (GET /metrics?gpu_id=N before each request, as the old script) or client (its own in-flight counts: no round trip per request, so a busy host still fills every slot) [default: metrics; client with --quick]',
    },
    'max-tokens': { type: 'integer', help: 'max_tokens per request (short answers keep the drain short and prefill, which the prompt size drives, dominant)', default: 32, min: 1 },
    seed: { type: 'integer', help: 'server seed', default: 0 },
    backends: { type: 'list', help: 'real servers (base URLs, one per GPU) behind servelab imbalance balance instead of the simulated server', metavar: 'URL,URL' },
    'no-predict': { type: 'boolean', help: 'skip the serving model\'s prediction of the same requests (recorded in the run config)' },
    from: { type: 'string', help: 're-analyse an archived run: stages and report only, no server', metavar: 'RUN' },
    data: { type: 'string', help: 'run archive', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  },
  examples: [
    'npx zx pipelines/imbalance.mjs --quick',
    'npx zx pipelines/imbalance.mjs --policies round-robin,power-of-two -t 120',
    'npx zx pipelines/imbalance.mjs --backends http://gpu0:8000,http://gpu1:8000,http://gpu2:8000,http://gpu3:8000',
    'npx zx pipelines/imbalance.mjs --from data/runs/imbalance/20261205-031500-ab12',
  ],
};

function fail(msg, code = 1) {
  console.error(`imbalance.mjs: ${msg}`);
  process.exit(code);
}

let p;
try {
  p = parseArgs(spec, args);
} catch (e) {
  fail(e.message, e.exitCode ?? 2);
}
if (p.help) {
  console.log(helpText(spec).replace(/^servelab imbalance\.mjs/, 'npx zx pipelines/imbalance.mjs'));
  process.exit(0);
}
const o = p.opts;
const quick = Boolean(o.quick);
const policies = o.policies?.length ? [...new Set(['round-robin', ...o.policies])] : quick ? ['round-robin', 'least-outstanding', 'power-of-two'] : [...ROUTERS];
const duration = o.duration ?? (quick ? 6 : 40);
const replayDuration = o['replay-duration'] ?? (quick ? 4 : duration);
if (!(duration > 0) || !(replayDuration > 0)) fail('--duration and --replay-duration must be positive numbers of seconds', 2);
const backends = o.backends ?? [];
if (backends.length && backends.length !== o['num-gpus'] && args.some((a) => a === '-n' || a.startsWith('--num-gpus'))) fail(`--backends: ${backends.length} URLs for --num-gpus ${o['num-gpus']}`, 2);
const numGpus = backends.length || o['num-gpus'];
const cfg = {
  policies, duration_s: duration, replay_duration_s: replayDuration, num_gpus: numGpus, max_concurrency: o['max-concurrency'], max_prompt: o['max-prompt'],
  warmup_loops: o['warmup-loops'], exp_base: o['exp-base'], max_tokens: o['max-tokens'], seed: o.seed, server: backends.length ? 'balance' : 'sim',
  backends, predict: !o['no-predict'], quick, concurrency_from: o['concurrency-from'] ?? (quick ? 'client' : 'metrics'),
};

$.verbose = false;
$.quiet = true;
const sh = async (step, argv, { stream = false } = {}) => {
  console.log(`${step} servelab ${argv.join(' ')}`);
  const r = $`${cli} ${argv}`.nothrow();
  if (stream) {
    r.stdout.on('data', (d) => process.stdout.write(d));
    r.stderr.on('data', (d) => process.stderr.write(d));
  }
  const done = await r;
  if (!stream) {
    process.stdout.write(done.stdout);
    process.stderr.write(done.stderr);
  }
  return done;
};

const t0 = performance.now();
let runDir;
const servers = [];
try {
  if (o.from) {
    runDir = path.resolve(o.from);
    if (!fs.existsSync(path.join(runDir, 'manifest.json'))) fail(`--from ${o.from}: not a run folder (no manifest.json)`, 2);
  } else {
    // 1. The run.
    const init = await sh('[1/6]', ['imbalance', 'init', '--data', o.data, '--config', JSON.stringify(cfg), '--command', `npx zx pipelines/imbalance.mjs ${args.join(' ')}`]);
    if (init.exitCode !== 0) fail('could not create the run', init.exitCode);
    runDir = init.stdout.trim().split('\n').pop();
    const rrPrompts = path.join(runDir, 'raw', 'prompts-round-robin.txt');
    // 2. Each policy: start the front, generate, replay the round-robin prompts, stop.
    for (const [i, policy] of policies.entries()) {
      const front = await startFront(policy);
      servers.push({ name: policy, kind: front.kind, url: front.url, command: front.command });
      console.log(`      ${policy}: ready at ${front.url}`);
      try {
        const load = ['--endpoint', `${front.url}/v1/chat/completions`, '--metrics-endpoint', `${front.url}/metrics`, '--run', runDir, '--label', policy,
          '--max-concurrency', String(cfg.max_concurrency), '--max-tokens', String(cfg.max_tokens), '-n', String(numGpus), '--scrape-interval', quick ? '0.25' : '0.5'];
        const g = await sh(`[2/6] ${policy}:`, ['imbalance', 'generate', ...load, '--shard', String(2 * i + 1), '-t', String(duration), '--max-prompt', String(cfg.max_prompt),
          '-m', String(cfg.warmup_loops), '-k', String(cfg.exp_base), '--concurrency-from', cfg.concurrency_from, '--prompts-file', path.join(runDir, 'raw', `prompts-${policy}.txt`)], { stream: true });
        if (g.exitCode !== 0) throw new Error(`generate under ${policy} failed (exit ${g.exitCode})`);
        const r = await sh(`[2/6] ${policy}:`, ['imbalance', 'replay', ...load, '--shard', String(2 * i + 2), '--prompts-file', rrPrompts, '--loop', '-t', String(replayDuration)], { stream: true });
        if (r.exitCode !== 0) throw new Error(`replay under ${policy} failed (exit ${r.exitCode})`);
      } finally {
        const end = await front.stop();
        console.log(`      ${policy}: stopped (${end.signal ?? `code ${end.code}`})`);
      }
    }
    // 3. Final status.
    await sh('[3/6]', ['imbalance', 'finish', runDir, '--status', 'complete', '--servers', JSON.stringify(servers)]);
    // 4. Parquet.
    const fin = await sh('[4/6]', ['runs', 'finalize', runDir]);
    if (fin.exitCode !== 0) fail('finalize failed', fin.exitCode);
    // 5. The serving model's prediction of the same requests (predicted_requests), each policy's front as its server.
    if (cfg.predict) {
      const pr = await sh('[5/6]', ['sim', 'predict', runDir]);
      if (pr.exitCode !== 0) console.error('imbalance.mjs: sim predict failed; the report is drawn without the prediction');
    } else console.log('[5/6] prediction skipped (--no-predict)');
  }
  // 6. Stages and report.
  const st = await sh('[6/6]', ['stages', runDir, '--only', 'imbalance_summary,imbalance_policy,imbalance_prompt_words,imbalance_latency_by_gpu', ...(o.from ? [] : ['--force'])]);
  if (st.exitCode !== 0) fail('stages failed', st.exitCode);
  const rep = await sh('[6/6]', ['report', runDir, '--out', path.join(runDir, 'report.html')]);
  if (rep.exitCode !== 0) fail('report failed', rep.exitCode);
  console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`report: ${path.join(runDir, 'report.html')}`);
} catch (err) {
  if (runDir && !o.from) await $`${cli} imbalance finish ${runDir} --status incomplete --error ${String(err?.message ?? err)} --servers ${JSON.stringify(servers)}`.nothrow();
  console.error(`imbalance.mjs: ${err?.message ?? err}`);
  if (runDir) console.error(`the run is kept in ${runDir}; re-analyse what it holds with: npx zx pipelines/imbalance.mjs --from ${runDir}`);
  process.exit(1);
}

/** The balancer for one policy: the simulated imbalance preset, or the balance proxy over --backends. */
async function startFront(policy) {
  if (!backends.length) {
    const spec = { kind: 'sim', name: policy, preset: 'imbalance', seed: cfg.seed, extraArgs: ['--routing', policy, '--gpus', String(numGpus)] };
    const s = await launchers.startServer(spec, { logDir: path.join(runDir, 'raw') });
    return { kind: 'sim', url: s.url, command: s.command, stop: () => s.stop() };
  }
  const child = $`${cli} imbalance balance --backends ${backends.join(',')} --routing ${policy} --port 0`.nothrow();
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.then((r) => reject(new Error(`balance exited (${r.exitCode}): ${r.stderr.trim().split('\n').pop()}`)));
  });
  return {
    kind: 'balance', url, command: `servelab imbalance balance --backends ${backends.join(',')} --routing ${policy}`,
    stop: async () => {
      child.kill('SIGTERM');
      const r = await child;
      return { code: r.exitCode, signal: r.signal };
    },
  };
}
