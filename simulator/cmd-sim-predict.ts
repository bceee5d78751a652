// `servelab sim predict RUN`: the serving model's prediction of a measured run. Reads the
// run's server configuration (manifest) and its requests, replays exactly those requests
// through the offline engine, and writes predicted_requests (+ predicted_gate_loads for MoE)
// into the same run; the predict_* stages compare them with what was measured.
import fs from 'node:fs';
import path from 'node:path';
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { usageError } from '../core/errors.ts';
import { JsonlWriter, writeFileAtomic } from '../core/jsonl-writer.ts';
import { formatDuration, progress } from '../core/output.ts';
import { promptHash } from '../core/prompt-fields.ts';
import { predicted_gate_loads, predicted_requests, type RecordOf, type TableName } from '../core/schema.ts';
import { openCatalog, queryRows } from '../analysis/catalog.ts';
import { finalizeTable, isFinalized, openDuckDB, readManifest, resolveRun } from '../analysis/runstore.ts';
import { ROUTERS } from './cluster.ts';
import { loadGpuFile } from './hardware.ts';
import type { RecordSink } from './offline.ts';
import { type ManifestServer, type PredictFlags, predictTargets } from './predict/config.ts';
import { readMeasured } from './predict/measured.ts';
import { replay } from './predict/replay.ts';
import { replicaCount } from './server/config.ts';

export const spec: CommandSpec = {
  name: 'sim predict',
  summary: "replay a measured run's requests through the serving model; writes predicted_requests into the run",
  description: [
    "Each ok request arrives at its measured sent_ns with its measured prompt tokens (server usage, else client) and",
    'generates exactly the output tokens it received. The server comes from the manifest: a simulated server\'s',
    "config (exact), its `sim serve` command line, or vLLM's launch flags (then --gpu is needed: the command line",
    'does not say the GPU type); a run against an external server needs --model and --gpu. Flags override the manifest.',
    "Defaults are the engine's, shared with sim run and sim serve (vLLM's batch limits for the GPU, 0.9 memory, 16-token blocks).",
    'Output: raw/predicted/requests.jsonl (table predicted_requests, same columns as requests) and, for MoE models,',
    'raw/predicted/gates/ (predicted_gate_loads); Parquet too when the run is finalized. A new prediction replaces the old.',
    'Compare with: servelab stages RUN --only predict_summary (stages predict_requests, predict_percentiles, predict_summary, …).',
  ].join('\n'),
  options: {
    model: { type: 'string', help: 'model preset or Hugging Face id (when the manifest names none, or to override it)', metavar: 'NAME' },
    'model-config': { type: 'string', help: 'a Hugging Face config.json for a model the simulator has no preset of', metavar: 'FILE' },
    gpu: { type: 'string', help: 'GPU type (H100, H200, A100-80GB); needed for vLLM and external runs', metavar: 'NAME' },
    'gpu-file': { type: 'string', help: 'JSON file adding GPUs', metavar: 'FILE' },
    gpus: { type: 'integer', help: 'GPUs behind the server (replicas = gpus / (tp·ep))', min: 1, metavar: 'N' },
    tp: { type: 'integer', help: 'tensor-parallel size per replica', min: 1 },
    ep: { type: 'integer', help: 'expert-parallel size per replica', min: 1 },
    routing: { type: 'string', help: 'how requests are spread over replicas', choices: ROUTERS },
    'max-num-seqs': { type: 'integer', help: "vLLM --max-num-seqs [default: the run's, else vLLM's for the GPU]", min: 1 },
    'max-num-batched-tokens': { type: 'integer', help: "vLLM --max-num-batched-tokens [default: the run's, else vLLM's for the GPU]", min: 1 },
    'gpu-memory-utilization': { type: 'number', help: "HBM fraction for weights + KV cache [default: the run's, else 0.9]" },
    seed: { type: 'integer', help: 'seed of the MoE routing [default: the run server\'s]' },
    prompts: { type: 'string', help: 'JSONL prompts ({"prompt": …}) to match by prompt_hash, for MoE routing by content [default: RUN/raw/datasets when present]', metavar: 'DIR|FILE' },
    gates: { type: 'boolean', help: 'write predicted MoE gate loads (--no-gates to skip)', default: true },
    data: { type: 'string', help: 'archive folder holding runs/ (to name RUN by id)', metavar: 'DIR' },
  },
  positionals: [{ name: 'run', help: 'the measured run: a folder, or a run id in the archive', required: true }],
  examples: [
    'servelab sim predict data/runs/bench/20261205-021500-ab12',
    'servelab sim predict data/runs/moe/20261123-051500-ab12              # the manifest\'s moe-baseline/moe-all2all servers',
    'servelab sim predict data/runs/bench/r1 --gpu H100                   # a vLLM run: GPU type from the flag, the rest from its launch flags',
    'servelab sim predict data/runs/bench/r2 --model Llama-3-8B --gpu H100 --gpus 4 --routing round-robin   # an external server',
  ],
};

function flagsOf(p: ReturnType<typeof parseOrHelp> & object): PredictFlags {
  return {
    model: opt.str(p, 'model'),
    modelConfig: opt.str(p, 'model-config'),
    gpu: opt.str(p, 'gpu'),
    gpus: opt.num(p, 'gpus'),
    tp: opt.num(p, 'tp'),
    ep: opt.num(p, 'ep'),
    routing: opt.str(p, 'routing'),
    maxNumSeqs: opt.num(p, 'max-num-seqs'),
    maxNumBatchedTokens: opt.num(p, 'max-num-batched-tokens'),
    gpuMemoryUtilization: opt.num(p, 'gpu-memory-utilization'),
    seed: opt.num(p, 'seed'),
  };
}

/** Prompt text by prompt_hash, from JSONL prompt files (the MoE datasets). */
export function promptsByHash(where: string): Map<string, string> {
  const files = fs.statSync(where).isDirectory()
    ? fs.readdirSync(where).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(where, f))
    : [where];
  const out = new Map<string, string>();
  for (const f of files) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const o = JSON.parse(line) as { prompt?: unknown };
        if (typeof o.prompt === 'string') out.set(promptHash(o.prompt), o.prompt);
      } catch {
        // not a prompt line (a dataset's index or header): skipped
      }
    }
  }
  return out;
}

/** Writes predicted records beside the run's raw files: raw/predicted/requests.jsonl, raw/predicted/gates/<name>.jsonl. */
class PredictionWriter implements RecordSink {
  private writers = new Map<string, JsonlWriter>();
  private prefix: Buffer;
  counts: Record<string, number> = {};
  constructor(private dir: string, run: string) {
    this.prefix = Buffer.from(`{"run":${JSON.stringify(run)},"shard":0,`);
  }
  append<T extends TableName>(table: T, record: Omit<RecordOf<T>, 'run' | 'shard'>, name?: string): void {
    const key = table === 'predicted_gate_loads' ? `gates/${name ?? 'gates'}` : 'requests';
    let w = this.writers.get(key);
    if (!w) this.writers.set(key, (w = new JsonlWriter(path.join(this.dir, 'raw', 'predicted', `${key}.jsonl`))));
    // The run/shard prefix is encoded once and merged in the writer's buffer (as RunHandle.append does).
    w.writeObjectWithPrefix(this.prefix, JSON.stringify(record));
    this.counts[table] = (this.counts[table] ?? 0) + 1;
  }
  close(): void {
    for (const w of this.writers.values()) w.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const ref = p.positionals[0];
  if (!ref) throw usageError('sim predict: missing RUN (a run folder or id)', ['usage: servelab sim predict RUN [--gpu NAME] [--model NAME] …']);
  const dir = fs.existsSync(path.join(ref, 'manifest.json')) ? path.resolve(ref) : resolveRun(ref, opt.str(p, 'data'));
  const manifest = readManifest(dir);
  const gpuFile = opt.str(p, 'gpu-file');
  if (gpuFile) loadGpuFile(gpuFile);
  const t0 = performance.now();

  // The measured requests (Parquet when finalized, else the raw JSONL, through the catalog).
  const cat = await openCatalog({ runDirs: [dir] });
  let measured;
  let requestModel: string | null = null;
  try {
    const promptsAt = opt.str(p, 'prompts') ?? (fs.existsSync(path.join(dir, 'raw', 'datasets')) ? path.join(dir, 'raw', 'datasets') : undefined);
    if (promptsAt && !fs.existsSync(promptsAt)) throw usageError(`--prompts ${promptsAt}: no such file or folder`);
    measured = await readMeasured(cat.conn, promptsAt ? promptsByHash(promptsAt) : undefined);
    const top = await queryRows(cat.conn, `SELECT model FROM requests WHERE model IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`);
    requestModel = (top[0]?.model as string | undefined) ?? null;
  } finally {
    cat.close();
  }
  if (measured.request_id.length === 0) throw usageError(`${dir}: the run has no requests to replay (requests table empty)`);

  const servers = Array.isArray(manifest.servers) ? (manifest.servers as ManifestServer[]) : [];
  const targets = predictTargets(servers, flagsOf(p), requestModel);
  for (const t of targets) {
    const c = t.config;
    process.stderr.write(
      `${t.name}: ${c.model} on ${c.gpus}×${c.gpu} (tp ${c.tp}, ep ${c.ep}, ${replicaCount(c)} replica(s), ${c.routing}), max-num-seqs ${c.maxNumSeqs}, ` +
        `max-num-batched-tokens ${c.maxNumBatchedTokens}${c.lora ? `, LoRA ${c.lora.gpuLoras}/${c.lora.totalLoras} resident` : ''} — from the ${t.source}\n`,
    );
  }

  // A new prediction replaces the old one.
  fs.rmSync(path.join(dir, 'raw', 'predicted'), { recursive: true, force: true });
  for (const t of [predicted_requests, predicted_gate_loads]) fs.rmSync(path.join(dir, `${t.name}.parquet`), { force: true });
  const writer = new PredictionWriter(dir, manifest.run);
  const n = measured.request_id.length;
  const bar = n >= 20000 ? progress('sim predict', n) : undefined;
  let sum;
  try {
    sum = replay({ targets, measured, sink: writer, gates: opt.bool(p, 'gates'), onProgress: bar ? (d) => bar.tick(d) : undefined });
  } finally {
    writer.close();
  }
  bar?.end();
  if (isFinalized(dir, manifest)) {
    const db = await openDuckDB();
    try {
      for (const t of [predicted_requests, predicted_gate_loads]) await finalizeTable(db.conn, dir, t);
    } finally {
      db.close();
    }
  }
  const fresh = readManifest(dir);
  const prediction = {
    command: `servelab sim predict ${argv.join(' ')}`,
    at_unix_ms: Date.now(),
    servers: targets.map((t) => ({ name: t.name, source: t.source, config: t.config, gpu_memory_utilization: t.gpuMemoryUtilization ?? null })),
    replayed: sum.replayed,
    skipped: sum.skipped,
    records: writer.counts,
  };
  writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify({ ...fresh, prediction }, null, 2) + '\n');
  const skipped = Object.entries(sum.skipped).map(([k, v]) => `${v} ${k}`).join(', ');
  process.stdout.write(
    [
      `${sum.replayed} requests replayed${skipped ? ` (not replayed: ${skipped})` : ''} in ${sum.segments} segment(s); ${sum.engine.steps} engine steps, ${sum.engine.preemptions} preemptions` +
        (sum.engine.aborted ? `, ${sum.engine.aborted} did not fit the KV cache` : ''),
      `predicted_requests: ${writer.counts.predicted_requests ?? 0} rows${writer.counts.predicted_gate_loads ? `, predicted_gate_loads: ${writer.counts.predicted_gate_loads} rows` : ''} in ${formatDuration((performance.now() - t0) / 1000)}`,
      `compare: servelab stages ${dir} --only predict_summary`,
    ].join('\n') + '\n',
  );
  return 0;
}
