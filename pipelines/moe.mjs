#!/usr/bin/env zx
// The MoE load-imbalance experiment end to end: Baseline (Triton MoE, TP=4) vs DefaultAll2All
// (FlashInfer MoE, EP=4) over generated datasets; every step is a servelab subcommand.
//
// Steps:
//   1. servelab moe init                  → data/runs/moe/<run-id> (or reopen --run DIR to resume)
//   2. servelab moe datasets --out <run>/raw/datasets   (reused when the run already has them; --datasets DIR copies yours)
//   3. for each backend (baseline, all2all):
//      a. start the server: the simulated preset moe-baseline / moe-all2all (default), or vLLM
//         (--server vllm: collectors/launchers, the launch_baseline.sh / launch_defaultAll2All.sh setups)
//      b. servelab moe bench <run> --datasets <run>/raw/datasets --backend B --resume
//         (per dataset: gate-log record → benchmark → dump → ingest into gate_loads; failures marked, the rest go on)
//      c. stop the server
//   4. servelab moe finish <run>          (manifest status, servers, dataset counts)
//   5. servelab runs finalize <run>       (raw JSONL → Parquet, so the stages read columns, not 500 MB of JSON)
//   6. servelab moe report <run>          (the notebook reports/moe.md over the moe_* stages → report.html) and print the report path
// --from RUN re-analyses an archived run (step 6 only), with no server.
import { $, fs, path } from 'zx';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const launchers = await import(path.join(root, 'collectors/launchers/index.ts'));
const cli = ['node', path.join(root, 'bin/servelab.js')];
const self = process.argv.findIndex((a) => a.endsWith('moe.mjs'));
const args = process.argv.slice(self + 1);

const HELP = `usage: npx zx pipelines/moe.mjs [options]

Runs the MoE load-imbalance experiment: makes datasets with predicted imbalance scores,
benchmarks each on Baseline and DefaultAll2All (collecting gate logs), computes the real
expert-load CV and the correlations in DuckDB, and renders report.html.

Options:
  --quick                  4 datasets × 6 prompts, 32 output tokens (about a minute)
  --count N                datasets to make [default: 50]
  --num-prompts N          prompts per dataset [default: 30]
  --output-len N           output tokens per request [default: 128]
  --datasets DIR           use these {index}_{score}.jsonl datasets (with index.json) instead of making them
  --seed N                 dataset and server seed [default: 0]
  --backends A,B           [default: baseline,all2all]
  --server sim|vllm        [default: sim: the simulated presets moe-baseline / moe-all2all]
  --model NAME             vLLM: model [default: mistralai/Mixtral-8x7B-v0.1]
  --gpus N                 vLLM: TP size (Baseline) and EP size (All2All) [default: 4]
  --port N                 vLLM: port [default: 8000]
  --batch-tokens N --max-seqs N --max-model-len N    vLLM: scheduler limits [8192, 32, 4096]
  --all2all-backend NAME   vLLM: all2all backend [default: allgather_reducescatter]
  --gate-dir DIR           vLLM: where the instrumented server writes gate_logs_* (moved per dataset)
  --gates MODE             how expert loads are collected: sim (the simulated server records them),
                           dir (--gate-dir), routed (vLLM --enable-return-routed-experts: routed_experts
                           in non-streaming responses, one step per request; no TTFT/ITL), none
                           [default: sim on the simulated server; dir with --gate-dir; else routed]
  --experts N              experts per MoE layer, for --gates routed [default: 8]
  --run DIR, --resume DIR  continue an interrupted run: datasets already measured are skipped
  --from RUN               re-analyse an archived run: stages and report only, no server
  --data DIR               run archive [default: data]
  --help

Examples:
  npx zx pipelines/moe.mjs --quick
  npx zx pipelines/moe.mjs
  npx zx pipelines/moe.mjs --server vllm --model mistralai/Mixtral-8x7B-v0.1 --gpus 4 --gate-dir /scratch/gate_logs
  npx zx pipelines/moe.mjs --server vllm --gpus 4          # expert loads from routed_experts
  npx zx pipelines/moe.mjs --resume data/runs/moe/20261123-051500-ab12
  npx zx pipelines/moe.mjs --from data/runs/moe/20261123-051500-ab12`;

if (args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}

const flags = new Set(['--quick']);
const opts = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (flags.has(a)) opts[a.slice(2)] = true;
  else if (a.startsWith('--')) {
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`, 2);
    opts[a.slice(2)] = v;
    i++;
  } else fail(`unexpected argument '${a}' (see --help)`, 2);
}
const known = ['quick', 'count', 'num-prompts', 'output-len', 'datasets', 'seed', 'backends', 'server', 'model', 'gpus', 'port', 'batch-tokens', 'max-seqs', 'max-model-len', 'all2all-backend', 'gate-dir', 'gates', 'experts', 'run', 'resume', 'from', 'data'];
for (const k of Object.keys(opts)) if (!known.includes(k)) fail(`unknown flag --${k} (see --help)`, 2);

function fail(msg, code = 1) {
  console.error(`moe.mjs: ${msg}`);
  process.exit(code);
}

$.verbose = false;
$.quiet = true;
const quick = Boolean(opts.quick);
const cfg = {
  count: Number(opts.count ?? (quick ? 4 : 50)),
  num_prompts: Number(opts['num-prompts'] ?? (quick ? 6 : 30)),
  output_len: Number(opts['output-len'] ?? (quick ? 32 : 128)),
  seed: Number(opts.seed ?? 0),
  backends: String(opts.backends ?? 'baseline,all2all').split(',').filter(Boolean),
  server: String(opts.server ?? 'sim'),
  gpus: Number(opts.gpus ?? 4),
  ep_size: Number(opts.gpus ?? 4),
  quick,
};
if (!['sim', 'vllm'].includes(cfg.server)) fail(`--server: '${cfg.server}' is not sim or vllm`, 2);
const gateMode = String(opts.gates ?? (cfg.server === 'sim' ? 'sim' : opts['gate-dir'] ? 'dir' : 'routed'));
if (!['sim', 'dir', 'routed', 'none'].includes(gateMode)) fail(`--gates: '${gateMode}' is not sim, dir, routed or none`, 2);
if (gateMode === 'sim' && cfg.server !== 'sim') fail('--gates sim needs the simulated server (--server sim); for vLLM use dir or routed', 2);
if (gateMode === 'dir' && !opts['gate-dir']) fail('--gates dir needs --gate-dir DIR (where the server writes gate_logs_*)', 2);
if (gateMode === 'dir' && cfg.server === 'sim') fail('--gates dir is for an instrumented vLLM; the simulated server records gate logs over HTTP (--gates sim) or returns routed_experts (--gates routed)', 2);
const experts = Number(opts.experts ?? 8);
if (!Number.isInteger(experts) || experts < 1) fail(`--experts: '${opts.experts}' is not a whole number ≥ 1`, 2);
cfg.gates = gateMode;
const data = opts.data ?? process.env.SERVELAB_DATA ?? 'data';
const t0 = performance.now();
let benchSeconds = 0;
const sh = async (step, argv, { stream = false } = {}) => {
  console.log(`${step} servelab ${argv.join(' ')}`);
  const p = $`${cli} ${argv}`.nothrow();
  if (stream) {
    p.stdout.on('data', (d) => process.stdout.write(d));
    p.stderr.on('data', (d) => process.stderr.write(d));
  }
  const r = await p;
  if (!stream) {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
  return r;
};

let runDir;
let servers = [];
try {
  if (opts.from) {
    runDir = path.resolve(opts.from);
    if (!fs.existsSync(path.join(runDir, 'manifest.json'))) fail(`--from ${opts.from}: not a run folder (no manifest.json)`);
  } else {
    // 1. The run.
    const resume = opts.run ?? opts.resume;
    const init = await sh('[1/6]', ['moe', 'init', '--data', data, '--config', JSON.stringify(cfg), '--command', `npx zx pipelines/moe.mjs ${args.join(' ')}`, ...(resume ? ['--dir', resume] : [])]);
    if (init.exitCode !== 0) fail('could not create the run', init.exitCode);
    runDir = init.stdout.trim().split('\n').pop();
    // 2. Datasets (kept inside the run so --from and resume see the same ones).
    const dsDir = path.join(runDir, 'raw', 'datasets');
    if (fs.existsSync(path.join(dsDir, 'index.json'))) console.log(`[2/6] datasets: reusing ${dsDir}`);
    else if (opts.datasets) {
      if (!fs.existsSync(path.join(opts.datasets, 'index.json'))) fail(`--datasets ${opts.datasets}: no index.json (make datasets with servelab moe datasets)`, 2);
      await fs.copy(opts.datasets, dsDir);
      console.log(`[2/6] datasets: copied ${opts.datasets} → ${dsDir}`);
    } else {
      const r = await sh('[2/6]', ['moe', 'datasets', '--out', dsDir, '--count', String(cfg.count), '--prompts-per-dataset', String(cfg.num_prompts), '--seed', String(cfg.seed)]);
      if (r.exitCode !== 0) fail('dataset generation failed', r.exitCode);
    }
    // 3. Each backend: start, benchmark every dataset, stop.
    const failed = [];
    for (const backend of cfg.backends) {
      const spec = serverSpec(backend);
      console.log(`[3/6] ${backend}: starting ${spec.kind === 'sim' ? `sim preset ${spec.preset}` : 'vLLM'}`);
      const server = await launchers.startServer(spec, { logDir: path.join(runDir, 'raw') });
      servers.push({ name: backend, kind: spec.kind, url: server.url, command: server.command });
      console.log(`      ${backend}: ready at ${server.url} (log ${server.logFile})`);
      try {
        const gates = gateMode === 'dir' ? `dir:${opts['gate-dir']}` : gateMode;
        const b0 = performance.now();
        const r = await sh(`[3/6] ${backend}:`, ['moe', 'bench', runDir, '--datasets', dsDir, '--limit', String(cfg.count), '--backend', backend, '--base-url', server.url,
          '--num-prompts', String(cfg.num_prompts), '--output-len', String(cfg.output_len), '--seed', String(cfg.seed), '--gates', gates, '--experts', String(experts), '--resume'], { stream: true });
        benchSeconds += (performance.now() - b0) / 1000;
        if (r.exitCode !== 0) failed.push(backend);
      } finally {
        const end = await server.stop();
        console.log(`      ${backend}: stopped (${end.signal ?? `code ${end.code}`})`);
      }
    }
    if (failed.length) console.error(`moe.mjs: some datasets failed on ${failed.join(', ')}; they are marked in the report, the rest was measured`);
  }
  // 4. Final status (the measurement is done; the analysis below can be redone with --from).
  if (!opts.from) await sh('[4/6]', ['moe', 'finish', runDir, '--status', 'complete', '--servers', JSON.stringify(servers)]);
  // 5. Finalize to Parquet (again after a resume: it rewrites from every raw file).
  if (!opts.from) {
    const fin = await sh('[5/6]', ['runs', 'finalize', runDir]);
    if (fin.exitCode !== 0) fail('finalize failed', fin.exitCode);
  }
  // 6. Stages and report.
  const rep = await sh('[6/6]', ['moe', 'report', runDir, ...(opts.from ? [] : ['--force'])]);
  if (rep.exitCode !== 0) fail('report failed', rep.exitCode);
  const wall = (performance.now() - t0) / 1000;
  if (!opts.from) console.log(`wall ${wall.toFixed(1)} s; benchmarking (waiting on the servers) ${benchSeconds.toFixed(1)} s (${((100 * benchSeconds) / wall).toFixed(0)}%)`);
  console.log(`report: ${path.join(runDir, 'report.html')}`);
} catch (err) {
  if (runDir && !opts.from) await $`${cli} moe finish ${runDir} --status incomplete --error ${String(err?.message ?? err)} --servers ${JSON.stringify(servers)}`.nothrow();
  console.error(`moe.mjs: ${err?.message ?? err}`);
  for (const d of err?.details ?? []) console.error(`  ${d}`);
  if (runDir) console.error(`the run is kept in ${runDir}; resume with: npx zx pipelines/moe.mjs --resume ${runDir}`);
  process.exit(1);
}

function serverSpec(backend) {
  const routed = gateMode === 'routed';
  if (cfg.server === 'sim') {
    return { kind: 'sim', name: backend, preset: backend === 'all2all' ? 'moe-all2all' : 'moe-baseline', seed: cfg.seed, ...(routed ? { returnRoutedExperts: true } : {}) };
  }
  const knobs = {
    model: opts.model, port: opts.port ? Number(opts.port) : undefined, batchTokens: num(opts['batch-tokens']), maxSeqs: num(opts['max-seqs']),
    maxModelLen: num(opts['max-model-len']), epSize: cfg.gpus, tpSize: cfg.gpus, all2allBackend: opts['all2all-backend'], returnRoutedExperts: routed,
  };
  return backend === 'all2all' ? launchers.vllmAll2All(knobs) : { ...launchers.vllmBaseline(knobs), name: backend };
}

function num(v) {
  return v === undefined ? undefined : Number(v);
}
