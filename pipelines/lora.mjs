#!/usr/bin/env zx
// The LoRA HBM-budget experiment end to end: one engine with N LoRA adapters of which M are
// resident in HBM; how TTFT grows as M falls. Every step is a servelab subcommand.
//
// Steps:
//   1. servelab lora init                  → data/runs/lora/<run-id>
//   2. smoke: start the server (N = the first total, M = the smallest), servelab lora smoke
//   3. probe: at the smallest and the largest M (servers started here), for each regime:
//      servelab lora probe --run <run> --arrival-rates … (each rate classified in SQL: lora_status)
//   4. servelab lora rate <run> --prompt-regime R   (the highest rate OK at both budgets: lora_rate)
//   5. for each regime and total N: servelab lora sweep --run <run> --total-loras N --gpu-loras N…2
//      --arrival-rate <picked> (a server per M; swap stats; CSV <run>/ttft_<regime>_total<N>.csv)
//   6. servelab lora finish <run>          (manifest status, servers)
//   7. servelab runs finalize <run>        (raw JSONL → Parquet)
//   8. servelab stages <run> --only lora_… and servelab report <run> (the notebook reports/lora.md)
//   7b. servelab sim predict <run>         (the serving model's prediction of the same requests; --no-predict skips it)
// --from RUN re-analyses an archived run (step 8 only), with no server.
import { $, fs, path } from 'zx';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { parseArgs, helpText } = await import(path.join(root, 'core/args.ts'));
const launchers = await import(path.join(root, 'collectors/launchers/index.ts'));
const { loraServerSpec } = await import(path.join(root, 'collectors/lora/servers.ts'));
const cli = ['node', path.join(root, 'bin/servelab.js')];
const self = process.argv.findIndex((a) => a.endsWith('lora.mjs'));
const args = process.argv.slice(self + 1);

const spec = {
  name: 'lora.mjs',
  summary: 'The LoRA HBM-budget experiment: smoke test, arrival-rate probe, TTFT sweep over the resident-adapter budget M, report.',
  description: '--quick: N = 16, M = 16,4,2, probe rates 4,8 for 2 s, 32 requests of 48 tokens per value (under 2 min on the simulated server).',
  options: {
    quick: { type: 'boolean', help: 'a small version of the whole experiment (about 1.5 min)' },
    server: { type: 'string', help: 'sim (the built-in simulated server), vllm, or generate (--command)', choices: ['sim', 'vllm', 'generate'], default: 'sim' },
    model: { type: 'string', help: 'base model', default: 'meta-llama/Llama-2-7b-hf' },
    command: { type: 'string', help: '--server generate: your /generate server\'s command', metavar: 'CMD' },
    port: { type: 'integer', help: 'vllm/generate: port', default: 8000 },
    totals: { type: 'string', help: 'total adapters N, one sweep each [default: 128,256; quick 16]', metavar: 'LIST' },
    regimes: { type: 'string', help: 'prompt regimes', default: 'short,long', metavar: 'LIST' },
    'probe-rates': { type: 'string', help: 'probe rates, req/s [default: 0.5,1,2,4,8,16; quick 4,8]', metavar: 'LIST' },
    'probe-seconds': { type: 'number', help: 'probe window per rate [default: 10; quick 3]', metavar: 'S' },
    'num-requests': { type: 'integer', help: 'requests per sweep value [default: 200; quick 40]', metavar: 'N' },
    'max-tokens': { type: 'integer', help: 'tokens per request [default: 16; quick 48, so a few requests overlap and compete for the M slots]' },
    seed: { type: 'integer', help: 'seed', default: 42 },
    predict: { type: 'boolean', help: 'add the serving model\'s prediction of the sweep (--no-predict leaves it out)', default: true },
    from: { type: 'string', help: 're-analyse an archived run: stages and report only, no server', metavar: 'RUN' },
    data: { type: 'string', help: 'run archive', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
  },
  examples: ['npx zx pipelines/lora.mjs --quick', 'npx zx pipelines/lora.mjs', 'npx zx pipelines/lora.mjs --server vllm --model meta-llama/Llama-2-7b-hf', 'npx zx pipelines/lora.mjs --from data/runs/lora/20261205-021500-ab12'],
};

let opts;
try {
  const parsed = parseArgs(spec, args);
  if (parsed.help) {
    console.log(helpText(spec).replace('servelab lora.mjs [options]', 'npx zx pipelines/lora.mjs [options]'));
    process.exit(0);
  }
  if (parsed.positionals.length) throw Object.assign(new Error(`unexpected argument '${parsed.positionals[0]}' (see --help)`), { exitCode: 2 });
  opts = parsed.opts;
} catch (e) {
  console.error(`lora.mjs: ${e.message}`);
  for (const d of e.details ?? []) console.error(`  ${d}`);
  process.exit(e.exitCode ?? 2);
}

const quick = Boolean(opts.quick);
const list = (s) => String(s).split(',').map((x) => x.trim()).filter(Boolean);
const cfg = {
  quick,
  server: opts.server,
  model: opts.model,
  totals: list(opts.totals ?? (quick ? '16' : '128,256')).map(Number),
  regimes: list(opts.regimes),
  probe_rates: opts['probe-rates'] ?? (quick ? '4,8' : '0.5,1,2,4,8,16'),
  probe_seconds: opts['probe-seconds'] ?? (quick ? 2 : 10),
  num_requests: opts['num-requests'] ?? (quick ? 32 : 200),
  max_tokens: opts['max-tokens'] ?? (quick ? 48 : 16),
  seed: opts.seed,
  predict: opts.predict,
};
for (const n of cfg.totals) if (!(Number.isInteger(n) && n >= 2)) fail(`--totals: '${n}' is not a whole number ≥ 2`, 2);
for (const r of cfg.regimes) if (!['short', 'long'].includes(r)) fail(`--regimes: '${r}' is not short or long`, 2);
if (cfg.server === 'generate' && !opts.command) fail('--server generate needs --command \'…\' (your /generate server)', 2);
/** N, N/2, …, 2 (the old sweep lists); quick: N, N/4, 2. */
const budgets = (n) => {
  if (quick) return [...new Set([n, Math.max(2, n / 4), 2])];
  const out = [n];
  for (let m = 2 ** Math.floor(Math.log2(n)); m >= 2; m /= 2) if (m < n) out.push(m);
  return out;
};

function fail(msg, code = 1) {
  console.error(`lora.mjs: ${msg}`);
  process.exit(code);
}

$.verbose = false;
$.quiet = true;
const t0 = performance.now();
let serverSeconds = 0;
const sh = async (step, argv) => {
  console.log(`${step} servelab ${argv.join(' ')}`);
  const s0 = performance.now();
  const p = $`${cli} ${argv}`.nothrow();
  p.stdout.on('data', (d) => process.stdout.write(d));
  p.stderr.on('data', (d) => process.stderr.write(d));
  const r = await p;
  const seconds = (performance.now() - s0) / 1000;
  console.log(`      (${seconds.toFixed(1)} s)`);
  return { ...r, seconds, exitCode: r.exitCode };
};
const knobs = (n, m) => ({ server: cfg.server, model: cfg.model, totalLoras: n, gpuLoras: m, port: cfg.server === 'sim' ? 0 : opts.port, useDummyWeights: true, dtype: 'auto', gpuMemoryUtilization: 0.9, maxNumSeqs: 16, maxLoraRank: 8, seed: cfg.seed, command: opts.command, adapterDir: undefined });
const serverFlags = ['--server', cfg.server, '--model', cfg.model, '--seed', String(cfg.seed), ...(cfg.server === 'sim' ? [] : ['--port', String(opts.port)]), ...(opts.command ? ['--command', opts.command] : [])];

let runDir;
const servers = [];
try {
  if (opts.from) {
    runDir = path.resolve(opts.from);
    if (!fs.existsSync(path.join(runDir, 'manifest.json'))) fail(`--from ${opts.from}: not a run folder (no manifest.json)`, 2);
  } else {
    // 1. The run.
    const init = await $`${cli} lora init --data ${opts.data} --config ${JSON.stringify(cfg)} --command ${`npx zx pipelines/lora.mjs ${args.join(' ')}`}`.nothrow();
    if (init.exitCode !== 0) fail(`could not create the run: ${init.stderr.trim()}`, init.exitCode);
    runDir = init.stdout.trim().split('\n').pop();
    console.log(`[1/8] run ${runDir}`);
    const n0 = cfg.totals[0];
    const mins = budgets(n0);
    const probeAt = [...new Set([mins[mins.length - 1], n0])];
    const proto = cfg.server === 'vllm' ? '/v1/completions' : '/generate';
    // 2–3. Smoke at the smallest M, then probe at the smallest and the largest.
    for (const m of probeAt) {
      const s0 = performance.now();
      const server = await launchers.startServer(loraServerSpec(knobs(n0, m), { name: `probe-m${m}` }), { logDir: path.join(runDir, 'raw') });
      servers.push({ name: `probe-m${m}`, kind: cfg.server, url: server.url, command: server.command });
      try {
        if (m === probeAt[0] && cfg.server !== 'vllm') {
          const smoke = await sh('[2/8]', ['lora', 'smoke', '--endpoint', server.url, '--total-loras', String(n0), '--gpu-loras', String(m)]);
          if (smoke.exitCode !== 0) throw new Error('the smoke test failed; see the FAIL lines above');
        }
        for (const regime of cfg.regimes) {
          const r = await sh(`[3/8] M=${m} ${regime}:`, ['lora', 'probe', '--run', runDir, '-e', server.url, '--path', proto, '--total-loras', String(n0), '--gpu-loras', String(m), '--prompt-regime', regime,
            '--arrival-rates', cfg.probe_rates, '-d', String(cfg.probe_seconds), '--max-tokens', String(cfg.max_tokens), '--seed', String(cfg.seed), '-o', path.join(runDir, `probe_${regime}_gpu${m}.jsonl`)]);
          if (r.exitCode !== 0) throw new Error(`the probe of ${regime} prompts at M=${m} failed`);
        }
      } finally {
        await server.stop();
        serverSeconds += (performance.now() - s0) / 1000;
      }
    }
    // 4–5. The rate each regime's sweep runs at, then the sweeps.
    let failedValues = 0;
    for (const regime of cfg.regimes) {
      const rate = await $`${cli} lora rate ${runDir} --prompt-regime ${regime}`.nothrow();
      if (rate.exitCode !== 0) throw new Error(`no rate for ${regime} prompts: ${rate.stderr.trim()}`);
      const picked = rate.stdout.trim();
      process.stderr.write(rate.stderr);
      console.log(`[4/8] ${regime}: sweep at ${picked} req/s (the highest probed rate OK at M = ${probeAt.join(' and ')})`);
      for (const n of cfg.totals) {
        const r = await sh(`[5/8] ${regime} N=${n}:`, ['lora', 'sweep', '--run', runDir, ...serverFlags, '--total-loras', String(n), '--gpu-loras', budgets(n).join(','), '--prompt-regime', regime,
          '--arrival-rate', picked, '-n', String(cfg.num_requests), '--max-tokens', String(cfg.max_tokens), '-o', path.join(runDir, `ttft_${regime}_total${n}.csv`), '--show-swap-stats']);
        serverSeconds += r.seconds;
        if (r.exitCode !== 0) failedValues++;
      }
    }
    if (failedValues) console.error(`lora.mjs: ${failedValues} sweep(s) had failed values; they are marked failed in the CSV and the report`);
    // 6–7. Final status and Parquet.
    await sh('[6/8]', ['lora', 'finish', runDir, '--status', 'complete', '--servers', JSON.stringify(servers)]);
    const fin = await sh('[7/8]', ['runs', 'finalize', runDir]);
    if (fin.exitCode !== 0) fail('finalize failed', fin.exitCode);
    // 7b. The serving model's prediction of the measured requests (predicted_requests), each sweep value on its own server.
    if (opts.predict) {
      const pr = await sh('[7/8]', ['sim', 'predict', runDir]);
      if (pr.exitCode !== 0) console.error('lora.mjs: sim predict failed; the report is drawn without the prediction');
    }
  }
  // 8. Stages and the report.
  const st = await sh('[8/8]', ['stages', runDir, '--only', 'lora_status,lora_rate,lora_ttft_by_m,lora_residency', ...(opts.from ? [] : ['--force'])]);
  if (st.exitCode !== 0) fail('stages failed', st.exitCode);
  const rep = await sh('[8/8]', ['report', runDir]);
  if (rep.exitCode !== 0) fail('report failed', rep.exitCode);
  const wall = (performance.now() - t0) / 1000;
  if (!opts.from) console.log(`wall ${wall.toFixed(1)} s; with the servers (probe and sweep: start, load, stop) ${serverSeconds.toFixed(1)} s (${((100 * serverSeconds) / wall).toFixed(0)}%)`);
  console.log(`run: ${runDir}`);
} catch (err) {
  if (runDir && !opts.from) await $`${cli} lora finish ${runDir} --status incomplete --error ${String(err?.message ?? err)} --servers ${JSON.stringify(servers)}`.nothrow();
  console.error(`lora.mjs: ${err?.message ?? err}`);
  for (const d of err?.details ?? []) console.error(`  ${d}`);
  if (runDir) console.error(`what was measured is kept in ${runDir}`);
  process.exit(1);
}
