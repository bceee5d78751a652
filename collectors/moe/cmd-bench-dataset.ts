// `servelab moe bench RUN --dataset FILE --backend NAME --base-url URL`: one dataset against one
// server into the experiment's run, tagged with dataset, backend and predicted score; gate logs too.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, type Parsed, parseOrHelp } from '../../core/args.ts';
import { CliError, errorMessage, usageError } from '../../core/errors.ts';
import { message } from '../../core/messages.ts';
import { createRun } from '../../core/run.ts';
import { benchmarkFile } from '../bench.ts';
import { readDataset } from './datasets.ts';
import { responsesToGateLines, writeClientGateLog } from './cmd-routed.ts';
import { collectGates, GATE_MODES, gateDumpDir, type GateMode } from './gates.ts';
import { compressGateLogs } from './gatelogs.ts';
import { ingestGateDir, openRunHandle } from './ingest.ts';
import type { GateLine } from './routed-experts.ts';
import { appendProgress, backendIndex, datasetInfo, progressFile, readProgress, shardOf, type ProgressEntry } from './progress.ts';

export const spec: CommandSpec = {
  name: 'moe bench',
  summary: 'benchmark one dataset against a server into a run, tagging dataset, backend and predicted score',
  description:
    'Requests go to raw/requests-<shard>.jsonl with endpoint = backend, dataset = the file name without .jsonl and ' +
    'extra {backend, predicted_score, dataset_index, strategy}. Gate logs: --gates sim records them over HTTP ' +
    '(start/stop/dump) into raw/gate_logs/<backend>/gates_logs_<index>/ and ingests them; --gates dir:SRC moves the ' +
    'gate_logs_* files a server wrote to SRC there; --gates routed sends non-streaming requests and reads routed_experts ' +
    "from every response (vLLM's --enable-return-routed-experts) into gate_logs_client.jsonl there: one step per request, " +
    'so the per-step CV is per request while the aggregated CV compares with server-side logs; TTFT and ITL are not ' +
    'measured in that mode (no stream). The outcome is appended to raw/moe_progress.jsonl.',
  options: {
    dataset: { type: 'list', variadic: true, help: 'dataset JSONL file(s) ({"prompt": …} per line)', metavar: 'FILE' },
    datasets: { type: 'string', help: 'every {index}_{score}.jsonl of this folder, in index order', metavar: 'DIR' },
    limit: { type: 'integer', help: 'with --datasets: only the first N', min: 1 },
    resume: { type: 'boolean', help: 'skip datasets the run already measured on this backend (raw/moe_progress.jsonl); retry failed ones' },
    backend: { type: 'string', help: 'backend name (baseline, all2all, …): the endpoint name of the records', default: 'baseline' },
    'base-url': { type: 'string', help: 'server base URL', default: 'http://127.0.0.1:8000' },
    endpoint: { type: 'string', help: 'request path', default: '/v1/completions' },
    model: { type: 'string', help: 'model name (default: the first of /v1/models)' },
    'num-prompts': { type: 'integer', help: 'prompts to send (the first N of the dataset)', default: 30, min: 1 },
    'output-len': { type: 'integer', help: 'output tokens per request (max_tokens with ignore_eos)', default: 128, min: 1 },
    'request-rate': { type: 'number', help: 'arrivals per second (inf: all at once, as the old benchmark)', default: Infinity },
    'max-concurrency': { type: 'integer', help: 'cap on requests in flight', min: 1 },
    gates: { type: 'string', help: 'how to collect gate logs: sim (HTTP record/dump), dir:SRC, routed (routed_experts in responses), or none', default: 'sim' },
    experts: { type: 'integer', help: 'with --gates routed: experts per MoE layer (Mixtral: 8)', default: 8, min: 1 },
    timeout: { type: 'number', help: 'per-request timeout in seconds', default: 300 },
    seed: { type: 'integer', help: 'seed', default: 0 },
    experiment: { type: 'string', help: 'experiment name when the run is created here', default: 'moe' },
  },
  positionals: [{ name: 'run-dir', help: 'the experiment run folder (created when missing)', required: true }],
  examples: [
    'servelab moe bench data/runs/moe/r1 --dataset datasets/007_0.4907.jsonl --backend baseline --base-url http://127.0.0.1:8000',
    'servelab moe bench data/runs/moe/r1 --dataset datasets/007_0.4907.jsonl --backend all2all --gates dir:/scratch/gate_logs',
    'servelab moe bench data/runs/moe/r1 --datasets datasets/ --backend baseline --gates routed --experts 8   # vllm serve … --enable-return-routed-experts',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const runDir = p.positionals[0]!;
  const files = [...opt.list(p, 'dataset')];
  const dir = opt.str(p, 'datasets');
  if (dir) {
    if (!fs.existsSync(dir)) throw usageError(`--datasets ${dir}: no such folder`);
    const all = fs.readdirSync(dir).filter((f) => /^\d+_\d+\.\d+\.jsonl$/.test(f)).sort().map((f) => path.join(dir, f));
    if (all.length === 0) throw usageError(`--datasets ${dir}: no {index}_{score}.jsonl files (make them with servelab moe datasets --out ${dir})`);
    files.push(...all.slice(0, opt.num(p, 'limit') ?? all.length));
  }
  if (files.length === 0) throw usageError('moe bench: give --dataset FILE or --datasets DIR');
  const gates = opt.str(p, 'gates')!;
  const gateMode: GateMode = gates.startsWith('dir:') ? { kind: 'dir', src: gates.slice(4) } : ({ kind: gates } as GateMode);
  if (!GATE_MODES.includes(gateMode.kind)) throw usageError(`--gates: '${gates}' is not sim, dir:SRC, routed or none`);
  const backend = opt.str(p, 'backend')!;
  const done = opt.bool(p, 'resume') ? readProgress(runDir) : new Map<string, ProgressEntry>();
  const failures: string[] = [];
  for (const file of files) {
    const name = path.basename(file).replace(/\.jsonl?$/, '');
    const prior = done.get(`${backend}/${name}`);
    if (prior?.status === 'ok') {
      process.stdout.write(`${backend} ${name}: already measured (${prior.completed} ok), skipped\n`);
      continue;
    }
    try {
      process.stdout.write((await benchOne(p, argv, runDir, file, backend, gateMode, prior ? prior.attempt + 1 : 0)) + '\n');
    } catch (err) {
      if (!marked.has(err as object)) {
        // Failed before the benchmark ran (e.g. a malformed dataset line): mark it too.
        appendProgress(runDir, { backend, dataset: name, index: 0, shard: 0, attempt: prior ? prior.attempt + 1 : 0, status: 'failed', completed: 0, failed: 0, gate_lines: 0, seconds: 0, error: errorMessage(err) });
      }
      if (!(err instanceof CliError) || files.length === 1) throw err;
      failures.push(name);
      process.stderr.write(`servelab: ${message.moeDatasetFailed(err.message)}\n`);
    }
  }
  if (failures.length) throw new CliError(`${backend}: ${failures.length} of ${files.length} dataset(s) failed: ${failures.join(', ')} (marked in ${progressFile(runDir)})`);
  return 0;
}

/** Errors already recorded in raw/moe_progress.jsonl. */
const marked = new WeakSet<object>();

async function benchOne(p: Parsed, argv: string[], runDir: string, file: string, backend: string, gateMode: GateMode, attempt: number): Promise<string> {
  const url = opt.str(p, 'base-url')!.replace(/\/+$/, '');
  const prompts = readDataset(file); // file:line: field: problem on a bad line
  const info = datasetInfo(file, prompts);
  const shard = shardOf(backendIndex(backend), info.index, attempt);

  if (!fs.existsSync(path.join(runDir, 'manifest.json'))) {
    createRun({ experiment: opt.str(p, 'experiment')!, dir: runDir, config: { ep_size: 4 }, command: `servelab moe bench ${argv.join(' ')}` });
  }
  // Earlier failed attempts of this dataset are kept aside (raw/failed-attempts/), not analysed.
  for (let a = 0; a < attempt; a++) {
    const s = shardOf(backendIndex(backend), info.index, a);
    for (const t of ['requests', 'chunks']) {
      const f = path.join(runDir, 'raw', `${t}-${s}.jsonl`);
      if (!fs.existsSync(f)) continue;
      fs.mkdirSync(path.join(runDir, 'raw', 'failed-attempts'), { recursive: true });
      fs.renameSync(f, path.join(runDir, 'raw', 'failed-attempts', path.basename(f)));
    }
  }
  const handle = createRun({ experiment: opt.str(p, 'experiment')!, dir: runDir, shard, resume: true });
  const t0 = performance.now();
  let ok = 0;
  let failed = 0;
  let lastError: string | null = null;
  // --gates routed: each response's routed_experts become one gate-log step (per request).
  const routed: GateLine[] | null = gateMode.kind === 'routed' ? [] : null;
  let routedProblem: string | null = null;
  let responses = 0;
  let nextStep = 0; // one step per choice that carries routed_experts
  const onBody = (body: Record<string, unknown>) => {
    if (!routed || routedProblem) return;
    try {
      const lines = responsesToGateLines([{ doc: body, where: `${backend} ${info.name}: response ${++responses}` }], opt.num(p, 'experts')!, nextStep);
      if (lines.length) nextStep = lines[lines.length - 1]!.step + 1;
      routed.push(...lines);
    } catch (err) {
      routedProblem = errorMessage(err);
    }
  };
  try {
    if (gateMode.kind === 'sim') await collectGates.start(url);
    await benchmarkFile(
      handle,
      {
        url,
        endpointPath: opt.str(p, 'endpoint'),
        model: opt.str(p, 'model') ?? null,
        datasetPath: file,
        datasetKind: 'file',
        numPrompts: Math.min(opt.num(p, 'num-prompts')!, prompts.length),
        outputLen: opt.num(p, 'output-len'),
        requestRate: opt.num(p, 'request-rate'),
        maxConcurrency: opt.num(p, 'max-concurrency') ?? null,
        seed: opt.num(p, 'seed'),
        timeoutMs: opt.num(p, 'timeout')! * 1000,
        saveChunks: true,
        stream: !routed,
        tags: { dataset: info.name, endpoint: backend, extra: { backend, predicted_score: info.score, dataset_index: info.index, strategy: info.strategy } },
      },
      {
        onRecord: (r) => {
          if (r.status === 'ok') ok++;
          else {
            failed++;
            lastError = r.error ?? r.status;
          }
        },
        warn: (m) => process.stderr.write(`warning: ${m}\n`),
        ...(routed ? { onBody } : {}),
      },
    );
  } catch (err) {
    lastError = errorMessage(err);
  } finally {
    handle.writer('requests').close();
    handle.writer('chunks').close();
  }

  let gateLines = 0;
  const gateDir = gateDumpDir(runDir, backend, info.index);
  if (ok > 0 && gateMode.kind !== 'none') {
    try {
      if (gateMode.kind === 'routed') {
        if (routedProblem) throw new CliError(routedProblem);
        if (!routed!.length) throw new CliError('no response carried routed_experts: launch vLLM with --enable-return-routed-experts (sim serve takes the same flag)');
        fs.rmSync(gateDir, { recursive: true, force: true });
        writeClientGateLog(gateDir, routed!);
      } else await (gateMode.kind === 'sim' ? collectGates.dump(url, gateDir) : collectGates.move(gateMode.src, gateDir));
      const r = await ingestGateDir(openRunHandle(runDir), gateDir, `${backend}/${info.name}`);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      compressGateLogs(gateDir); // ingested: the server's own logs are kept, gzipped
      gateLines = r.lines;
    } catch (err) {
      process.stderr.write(`warning: ${message.moeGatesNotCollected(backend, info.name, errorMessage(err))}\n`);
    }
  }
  const status = ok > 0 ? 'ok' : 'failed';
  const seconds = (performance.now() - t0) / 1000;
  appendProgress(runDir, { backend, dataset: info.name, index: info.index, shard, attempt, status, completed: ok, failed, gate_lines: gateLines, seconds, error: status === 'failed' ? lastError : null });
  const line = `${backend} ${info.name}: ${ok} ok, ${failed} failed, ${gateLines} gate-log lines in ${seconds.toFixed(1)} s (predicted score ${info.score.toFixed(4)})`;
  if (status === 'failed') {
    const e = new CliError(`${line}: benchmark failed${lastError ? ` (${lastError})` : ''}`);
    marked.add(e);
    throw e;
  }
  return line;
}
