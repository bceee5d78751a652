#!/usr/bin/env zx
// client.sh as zx: waits for the server's /health, benchmarks one dataset (30 prompts by
// default) with servelab bench, and saves a vLLM-style result JSON in results_json/<index>.json
// with the dataset's predicted imbalance score and components added (as benchmark.py did).
//
// usage: collectors/client.mjs DATASET_PATH [INPUT_SEQUENCE_LEN] [PORT] [--dry-run]
//   INPUT_SEQUENCE_LEN: cap on prompt length in words (longer prompts are cut; default: no cap)
//   PORT: default 8000. Env: NUM_PROMPTS (30), OUTPUT_LEN (128), RESULTS_DIR (results_json),
//   HEALTH_TIMEOUT_S (1800), SERVELAB_DATA (run archive).
import { $, fs, os, path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = ['node', path.join(root, 'bin/servelab.js')];
const self = process.argv.findIndex((a) => a.endsWith('client.mjs'));
const argv = process.argv.slice(self + 1);
const usage = 'usage: collectors/client.mjs DATASET_PATH [INPUT_SEQUENCE_LEN] [PORT] [--dry-run]';
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const dryRun = argv.includes('--dry-run');
const [dataset, inputLen, port = '8000'] = argv.filter((a) => a !== '--dry-run');
const fail = (m, code = 1) => {
  console.error(`client.mjs: ${m}`);
  process.exit(code);
};
if (!dataset) fail(`missing DATASET_PATH\n${usage}`, 2);
if (!fs.existsSync(dataset)) fail(`${dataset}: no such dataset`, 2);
if (inputLen !== undefined && !/^\d+$/.test(inputLen)) fail(`INPUT_SEQUENCE_LEN: '${inputLen}' is not a whole number`, 2);
if (!/^\d+$/.test(port)) fail(`PORT: '${port}' is not a whole number`, 2);

$.verbose = false;
$.quiet = true;
const url = `http://127.0.0.1:${port}`;
const name = path.basename(dataset).replace(/\.jsonl?$/, '');
const index = /^(\d+)_/.exec(name)?.[1] ?? name;
const resultsDir = process.env.RESULTS_DIR ?? 'results_json';
const resultFile = path.join(resultsDir, `${index}.json`);

// Prompts longer than INPUT_SEQUENCE_LEN words are cut (a temporary copy of the dataset).
let file = dataset;
if (inputLen !== undefined && !dryRun) {
  const cap = Number(inputLen);
  const lines = fs.readFileSync(dataset, 'utf8').split('\n').filter((l) => l.trim());
  const cut = lines.map((l, i) => {
    let o;
    try {
      o = JSON.parse(l);
    } catch (e) {
      fail(`${dataset}:${i + 1}: not valid JSON (${e.message})`);
    }
    if (typeof o.prompt === 'string') o.prompt = o.prompt.split(/\s+/).slice(0, cap).join(' ');
    return JSON.stringify(o);
  });
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-client-')), path.basename(dataset));
  fs.writeFileSync(file, cut.join('\n') + '\n');
}

const benchArgs = [
  'bench', '--base-url', url, '--endpoint', '/v1/completions', '--dataset-name', 'file', '--dataset-path', file,
  '--num-prompts', process.env.NUM_PROMPTS ?? '30', '--output-len', process.env.OUTPUT_LEN ?? '128',
  '--experiment', 'moe-client', '--label', name, '--result-json', resultFile,
];
if (dryRun) {
  console.log(`servelab ${benchArgs.join(' ')}`);
  process.exit(0);
}

// Wait for the server (vLLM: connection refused until the model is loaded).
const deadline = Date.now() + Number(process.env.HEALTH_TIMEOUT_S ?? 1800) * 1000;
process.stdout.write(`Waiting for the server at ${url}/health `);
for (;;) {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) });
    if (r.status === 200) break;
  } catch {
    /* not up yet */
  }
  if (Date.now() > deadline) fail(`\n${url}/health did not answer 200 within ${process.env.HEALTH_TIMEOUT_S ?? 1800} s; is the server running (collectors/launch_baseline.mjs)?`);
  process.stdout.write('.');
  await new Promise((r) => setTimeout(r, 2000));
}
console.log(' ready');

fs.mkdirSync(resultsDir, { recursive: true });
const bench = await $`${cli} ${benchArgs}`.nothrow();
process.stdout.write(bench.stdout);
process.stderr.write(bench.stderr);
if (bench.exitCode !== 0 && bench.exitCode !== 3) fail(`benchmark of ${dataset} failed (exit ${bench.exitCode})`, bench.exitCode);
const score = await $`${cli} moe score ${dataset}`.nothrow();
if (score.exitCode === 0) {
  const result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  const prediction = JSON.parse(score.stdout);
  Object.assign(result, { dataset: name, dataset_path: dataset, imbalance_score: prediction.imbalance_score, imbalance_components: prediction.components });
  fs.writeFileSync(resultFile, JSON.stringify(result, null, 2) + '\n');
}
console.log(`Results saved to ${resultFile}`);
