// `servelab moe cv`: real MoE load imbalance from gate logs, as get_real_imbalance.py (per-step)
// and new_real_imbalance.py (aggregated) printed it; over gates_logs_XX folders, a JSON map.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { usageError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { formatTable } from '../../core/output.ts';
import { CV_METHODS, computeCv, cvOf, isCvMethod, type CvMethod, type CvResult } from './cv.ts';
import { gateLogDirs } from './gatelogs.ts';

export const spec: CommandSpec = {
  name: 'moe cv',
  summary: 'real expert-load imbalance (coefficient of variation) from gate_logs_* files',
  description:
    'per-step: CV of the expert loads of every step and layer, then the mean (get_real_imbalance.py). ' +
    'aggregated: expert loads summed over every step of at most 1000 tokens (larger ones are warm-up/profiling), then one CV, ' +
    'with the max/min ratio (new_real_imbalance.py). CV = population std / mean. ' +
    'With --all (or a second positional OUT.json), DIR is a folder of gates_logs_XX subdirectories and the result is a JSON map ' +
    'of subdirectory → CV (compute_all_real_imbalance.py / new_compute_all_real_imbalance.py). With more than one layer, ' +
    'a per-layer table gives both CVs of each layer (--json: `layers`).',
  options: {
    method: { type: 'string', help: 'how to compute the CV', choices: CV_METHODS, default: 'per-step' },
    all: { type: 'boolean', help: 'DIR holds gates_logs_XX subdirectories: write a JSON map of subdirectory → CV' },
    out: { type: 'string', help: 'with --all: where to write the JSON map (default: print it)', metavar: 'FILE' },
    'ep-size': { type: 'integer', help: 'expert-parallel ranks for the EP-rank load (experts split contiguously)', default: 4, min: 1 },
    json: { type: 'boolean', help: 'print the full result as JSON' },
  },
  positionals: [
    { name: 'dir', help: 'directory of gate_logs_* files (or, with --all, a folder of such directories)', required: true },
    { name: 'out-json', help: 'write the JSON map of subdirectory → CV here (implies --all)' },
  ],
  examples: [
    'servelab moe cv baseline_gates_logs/gates_logs_01',
    'servelab moe cv baseline_gates_logs/gates_logs_01 --method aggregated',
    'servelab moe cv baseline_gates_logs baseline_real_imbalance.json',
    'servelab moe cv default_all2all_gates_logs --all --method aggregated --out default_all2all_real_imbalance.json',
  ],
};

const f4 = (x: number | null | undefined) => (x == null ? 'n/a' : x.toFixed(4));

/** The old scripts' console output for one directory. */
export function describeOne(dir: string, r: CvResult, method: CvMethod): string {
  const s = r.summaries[0]!;
  const lines = [`Gate logs: ${dir} (${s.files} file(s), ${s.steps} steps, ${s.layers} layers, ${s.experts} experts)`];
  if (method === 'per-step') {
    lines.push(`Method: per-step (CV of each step and layer, then the mean)`);
    lines.push(`Per-step CV (mean over steps): ${f4(s.per_step_cv)}`);
    lines.push(`Aggregated CV (for comparison): ${f4(s.aggregated_cv)}`);
  } else {
    lines.push(`Method: aggregated expert assignment (steps with more than 1000 tokens skipped: ${s.warmup_steps})`);
    lines.push(`Total tokens: ${s.total_tokens}`);
    lines.push('Expert loads:');
    const total = s.total_tokens || 1;
    const rows = r.experts.filter((e) => e.grp === s.grp).map((e) => [e.expert, e.tokens, `${((100 * e.tokens) / total).toFixed(2)}%`]);
    lines.push(...formatTable(['expert', 'tokens', 'share'], rows).split('\n').map((l) => `  ${l}`));
    lines.push(`Mean load: ${s.mean_expert_tokens?.toFixed(1)}  max: ${s.max_expert_tokens}  min: ${s.min_expert_tokens}`);
    lines.push(`Aggregated CV: ${f4(s.aggregated_cv)}`);
    lines.push(`Max/min ratio: ${f4(s.max_min_ratio)}`);
    lines.push(`Per-step CV (for comparison): ${f4(s.per_step_cv)}`);
  }
  const ranks = r.ranks.filter((x) => x.grp === s.grp);
  if (ranks.length) {
    lines.push(`EP-rank load (${ranks.length} ranks): ${ranks.map((x) => `${(x.share * 100).toFixed(1)}%`).join(' ')}; rank CV aggregated ${f4(ranks[0]!.rank_cv_aggregated)}, per-step ${f4(ranks[0]!.rank_cv_per_step)}`);
  }
  const layers = r.layers.filter((x) => x.grp === s.grp);
  if (layers.length > 1) {
    lines.push('Per-layer CV:');
    const rows = layers.map((x) => [x.layer, f4(x.per_step_cv), f4(x.aggregated_cv), f4(x.max_min_ratio), x.steps]);
    lines.push(...formatTable(['layer', 'per-step CV', 'aggregated CV', 'max/min', 'steps'], rows).split('\n').map((l) => `  ${l}`));
  }
  lines.push(`Imbalance score (${method} CV, lower = more balanced): ${f4(cvOf(s, method))}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const method = opt.str(p, 'method')!;
  if (!isCvMethod(method)) throw usageError(`--method: '${method}' is not one of ${CV_METHODS.join(', ')}`);
  const [dir, outJson] = p.positionals as [string, string | undefined];
  const all = opt.bool(p, 'all') || outJson !== undefined;
  const epSize = opt.num(p, 'ep-size');

  if (!all) {
    if (opt.str(p, 'out')) throw usageError('--out: only with --all (a folder of gates_logs_XX directories)');
    if (fs.existsSync(dir) && !fs.readdirSync(dir).some((f) => f.startsWith('gate_logs_')) && fs.readdirSync(dir).some((f) => /^gates?_logs_/.test(f))) {
      throw usageError(`${dir}: holds gates_logs_XX subdirectories; add --all (or give OUT.json) to get the CV of each`);
    }
    const r = await computeCv([dir], { epSize });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write((opt.bool(p, 'json') ? JSON.stringify(r, null, 2) : describeOne(dir, r, method)) + '\n');
    return 0;
  }

  const dirs = gateLogDirs(dir);
  const r = await computeCv(dirs, { epSize });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const map: Record<string, number | null> = {};
  for (const s of r.summaries) map[s.grp] = cvOf(s, method);
  const text = JSON.stringify(opt.bool(p, 'json') ? r : map, null, 2) + '\n';
  const out = outJson ?? opt.str(p, 'out');
  process.stdout.write(formatTable(['directory', `${method} CV`, 'max/min', 'steps'], r.summaries.map((s) => [s.grp, cvOf(s, method), s.max_min_ratio, s.steps])) + '\n');
  if (out) {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileAtomic(out, text);
    process.stdout.write(`\nSaved ${r.summaries.length} results to ${out}\n`);
  } else process.stdout.write(text);
  return 0;
}
