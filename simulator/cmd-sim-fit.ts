// `servelab sim fit` fits coefficients to measured samples and writes them for --coefficients;
// `servelab sim calibrate` re-derives a GPU's committed coefficients from measured timings.
import fs from 'node:fs';
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { inputError, usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { formatTable } from '../core/output.ts';
import { calibrateFiles, calibrationJson, defaultInputs } from './calibrate.ts';
import { calibrationFileFor, coefficientsToJson } from './coefficients.ts';
import { MODEL_FLAGS, costModelOptions } from './cli-model-flags.ts';
import { fitCoefficients, loadSamples } from './fit.ts';

type Out = (s: string) => void;

export const spec: CommandSpec = {
  name: 'sim fit',
  summary: 'Fit the cost-model coefficients (overheads, per-family multipliers, comm α) to measured samples by NNLS.',
  description:
    'Samples, one per JSONL line or CSV row, are either steps — prefill_tokens, prefill_seqs, decode_seqs, decode_ctx (or\n' +
    'decode_ctx_sum), seconds|ms (or start_ns/end_ns, as in sim_steps) — or requests — prompt_tokens, output_tokens,\n' +
    'ttft|ttft_ms, tpot|tpot_ms, optional concurrency (servelab requests.jsonl works as is). A request gives two equations:\n' +
    'TTFT ≈ one prefill of the prompt, TPOT ≈ a decode step at batch = concurrency and context prompt + output/2, so\n' +
    'request samples should come from light load. The fit minimizes relative error, pulled toward the current coefficients by --ridge.',
  options: {
    samples: { type: 'string', help: 'samples file (.jsonl or .csv)', metavar: 'FILE' },
    ...MODEL_FLAGS,
    ridge: { type: 'number', help: 'pull toward the starting coefficients (0 = pure NNLS)', default: 0.05, metavar: 'W' },
    out: { type: 'string', help: 'write the fitted coefficients here (load them with --coefficients)', metavar: 'FILE' },
  },
  examples: [
    'servelab sim fit --samples steps.jsonl --model Llama-3-8B --gpu H100 --tp 1 --out coeffs.json',
    'servelab sim fit --samples data/runs/latency/r1/raw/requests.jsonl --model Llama-3-8B --out coeffs.json',
    'servelab sim explain --model Llama-3-8B --decode 32 --coefficients coeffs.json',
  ],
};

const fmt = (v: number) => (Math.abs(v) < 1e-2 && v !== 0 ? `${(v * 1e6).toFixed(2)} µs` : v.toFixed(4));

export async function run(argv: string[], out: Out = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const p = parseOrHelp(spec, argv, out);
  if (!p) return 0;
  const file = opt.str(p, 'samples');
  if (!file) throw usageError('sim fit: --samples: missing: give a .jsonl or .csv of step or request samples (see servelab sim fit --help)');
  const options = costModelOptions(p);
  const samples = loadSamples(file);
  const r = fitCoefficients({ ...options, coefficients: options.coefficients! }, samples, opt.num(p, 'ridge')!);
  out(`fitted ${r.samples} equations from ${file} (${options.model.name} on ${options.gpu.name}, TP ${options.tp}, EP ${options.ep})`);
  out(
    formatTable(
      ['term', 'start', 'fitted', 'in data'],
      r.terms.map((t) => [t.term, t.term.includes('scale') ? t.prior.toFixed(4) : fmt(t.prior), t.term.includes('scale') ? t.fitted.toFixed(4) : fmt(t.fitted), t.used ? 'yes' : 'no (kept)']),
    ),
  );
  out(`abs relative error: before median ${r.before.medianAbsPctError.toFixed(2)}% max ${r.before.maxAbsPctError.toFixed(2)}%; after median ${r.after.medianAbsPctError.toFixed(2)}% max ${r.after.maxAbsPctError.toFixed(2)}%`);
  const target = opt.str(p, 'out');
  if (target) {
    const doc = {
      description: `servelab sim fit of ${options.model.name} on ${options.gpu.name} TP ${options.tp} EP ${options.ep} to ${file}`,
      samples: r.samples,
      before: r.before,
      after: r.after,
      coefficients: coefficientsToJson(r.coefficients),
    };
    writeFileAtomic(target, JSON.stringify(doc, null, 2) + '\n');
    out(`wrote ${target} (use --coefficients ${target})`);
  }
  return 0;
}

const calibrateSpec: CommandSpec = {
  name: 'sim calibrate',
  summary: "Re-derive a GPU's default coefficients from measured timings (kernels, launch, collectives; whole steps as a check).",
  description:
    'Kernel rows (graph-replayed) fit the op families and the knee; paired graph/eager rows (op and op_eager) fit the\n' +
    'launch term; collectives of 2+ GPUs (bench/gpu/measure_collectives.py) fit the all-reduce and all-to-all α and bandwidth\n' +
    'fractions; whole steps (bench/gpu/measure_step.py) are priced and compared, not fitted. Terms with no measurement keep\n' +
    'their priors, and the written file says which terms are measured (servelab sim explain lists them).\n' +
    'Defaults per GPU: H100 reads ../shared/calibration/h100-kernels.csv; others bench/data/<gpu>-kernels.csv; steps and\n' +
    'collectives from bench/data/<gpu>-steps.csv and bench/data/<gpu>-collectives-*.csv where present.',
  options: {
    gpu: { type: 'string', help: 'GPU the measurements come from (see servelab sim gpus)', default: 'H100', metavar: 'NAME' },
    csv: { type: 'string', help: 'kernel timings CSV (op,model,T,B,ctx,flops,bytes,ms) [default: per GPU, above]', metavar: 'FILE' },
    steps: { type: 'string', help: 'whole-step and launch rows from measure_step.py [default: bench/data/<gpu>-steps.csv if present]', metavar: 'FILE' },
    collectives: { type: 'list', help: 'collectives CSVs from measure_collectives.py [default: bench/data/<gpu>-collectives-*.csv]', metavar: 'FILE', variadic: true },
    out: { type: 'string', help: 'where to write [default: simulator/calibration/<gpu>.json]', metavar: 'FILE' },
  },
  examples: [
    'servelab sim calibrate',
    'servelab sim calibrate --gpu H200',
    'servelab sim calibrate --gpu H200 --collectives bench/data/h200-collectives-8.csv --out /tmp/h200.json',
    'servelab sim calibrate --csv ../shared/calibration/h100-kernels.csv --out /tmp/h100.json',
  ],
};

const pct = (v: number) => `${v.toFixed(1)}%`;

export async function runCalibrate(argv: string[], out: Out = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const p = parseOrHelp(calibrateSpec, argv, out);
  if (!p) return 0;
  const files = defaultInputs(opt.str(p, 'gpu')!);
  const csv = opt.str(p, 'csv');
  if (csv) files.kernels = csv;
  const steps = opt.str(p, 'steps');
  if (steps) files.steps = steps;
  const coll = opt.list(p, 'collectives');
  if (coll && coll.length) files.collectives = coll;
  for (const f of [files.kernels, ...(files.steps ? [files.steps] : []), ...files.collectives]) {
    if (!fs.existsSync(f)) throw inputError(f, undefined, f === files.kernels ? 'not found: pass --csv FILE (the kernel timings)' : 'not found');
  }
  const c = calibrateFiles(files);
  const target = opt.str(p, 'out') ?? calibrationFileFor(files.gpu);
  writeFileAtomic(target, calibrationJson(c));
  out(formatTable(['family', 'points', 'median_abs_err_pct', 'max_abs_err_pct'], c.fit.map((f) => [f.family, f.points, f.medianAbsPctError, f.maxAbsPctError])));
  if (c.launch) {
    const l = c.launch;
    out(`launch (eager = max(graph + gap, host)): host ${(l.hostSeconds * 1e6).toFixed(2)} µs, gap ${(l.gapSeconds * 1e6).toFixed(2)} µs on ${l.points} graph/eager pairs; ` +
      `abs error median ${pct(l.medianAbsPctError)} max ${pct(l.maxAbsPctError)} (no launch term: median ${pct(l.withoutTerm.medianAbsPctError)} max ${pct(l.withoutTerm.maxAbsPctError)})`);
  } else out('launch: no graph/eager pairs; the prior stays');
  if (c.comm.length) {
    out(formatTable(['collective', 'alpha_us', 'bw_fraction', 'gpus', 'size_class', 'points', 'median_abs_err_pct', 'max_abs_err_pct'],
      c.comm.flatMap((f) => f.byClass.map((b) => [f.op, Number((f.alpha * 1e6).toFixed(2)), Number(f.bwFraction.toFixed(4)), f.gpus.join('/'), b.sizeClass, b.points, b.medianAbsPctError, b.maxAbsPctError]))));
  } else out('comm: no collectives measured on 2+ GPUs; allreduce and all2all keep their priors');
  if (c.steps) {
    const s = c.steps;
    out(`whole steps: graph ${s.graph.points} steps, abs error median ${pct(s.graph.medianAbsPctError)} max ${pct(s.graph.maxAbsPctError)} ` +
      `(ops only: median ${pct(s.graphOpsOnly.medianAbsPctError)} max ${pct(s.graphOpsOnly.maxAbsPctError)}); ` +
      `priced ops only ${s.priced.points} steps against the ops sum, median ${pct(s.priced.medianAbsPctError)} max ${pct(s.priced.maxAbsPctError)}; eager ${s.eager.points} steps, median ${pct(s.eager.medianAbsPctError)} max ${pct(s.eager.maxAbsPctError)}`);
  }
  out(`knee ${c.coefficients.knee}; wrote ${target}`);
  return 0;
}
