// `servelab sim fit` fits coefficients to measured samples and writes them for --coefficients;
// `servelab sim calibrate` re-derives the committed H100 coefficients from kernel timings.
import fs from 'node:fs';
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { inputError, usageError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/jsonl-writer.ts';
import { formatTable } from '../core/output.ts';
import { KERNEL_CSV, calibrateFile, calibrationJson } from './calibrate.ts';
import { CALIBRATION_FILE, coefficientsToJson } from './coefficients.ts';
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
  summary: 'Re-derive the default H100 coefficients from measured kernel timings (graph-replayed rows).',
  options: {
    csv: { type: 'string', help: 'kernel timings CSV (op,model,T,B,ctx,flops,bytes,ms)', default: KERNEL_CSV, metavar: 'FILE' },
    out: { type: 'string', help: 'where to write', default: CALIBRATION_FILE, metavar: 'FILE' },
  },
  examples: ['servelab sim calibrate', 'servelab sim calibrate --csv ../shared/calibration/h100-kernels.csv --out /tmp/h100.json'],
};

export async function runCalibrate(argv: string[], out: Out = (s) => process.stdout.write(s + '\n')): Promise<number> {
  const p = parseOrHelp(calibrateSpec, argv, out);
  if (!p) return 0;
  const csv = opt.str(p, 'csv')!;
  if (!fs.existsSync(csv)) throw inputError(csv, undefined, 'not found: pass --csv FILE (the kernel timings)');
  const c = calibrateFile(csv);
  const target = opt.str(p, 'out')!;
  writeFileAtomic(target, calibrationJson(c));
  out(formatTable(['family', 'points', 'median_abs_err_pct', 'max_abs_err_pct'], c.fit.map((f) => [f.family, f.points, f.medianAbsPctError, f.maxAbsPctError])));
  out(`knee ${c.coefficients.knee}; wrote ${target}`);
  return 0;
}
