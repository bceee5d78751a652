// The committed calibrations against their measurements, re-derived from the CSVs (bench/data/, and
// ../shared/calibration for the H100): per op family fit, the launch term (eager vs graph pairs), the
// comm fits where 2+ GPUs were measured, and whole measured steps against the cost model's price.
import fs from 'node:fs';
import { formatTable } from '../core/output.ts';
import { type Calibration, calibrateFiles, defaultInputs } from '../simulator/calibrate.ts';

const pct = (v: number) => `${v.toFixed(1)}%`;

function show(c: Calibration): void {
  console.log(`\n## ${c.gpu}: ${[c.input.file, ...c.inputs.map((i) => i.file)].join(', ')}`);
  console.log(formatTable(['family', 'points', 'median_abs_err', 'max_abs_err'], c.fit.map((f) => [f.family, f.points, pct(f.medianAbsPctError), pct(f.maxAbsPctError)])));
  if (c.launch) {
    const l = c.launch;
    console.log(
      `launch: eager call = max(graph + ${(l.gapSeconds * 1e6).toFixed(2)} µs, ${(l.hostSeconds * 1e6).toFixed(2)} µs host) on ${l.points} graph/eager pairs: ` +
        `abs error median ${pct(l.medianAbsPctError)}, max ${pct(l.maxAbsPctError)}; without the term (eager priced as graph) median ${pct(l.withoutTerm.medianAbsPctError)}, max ${pct(l.withoutTerm.maxAbsPctError)}`,
    );
  }
  if (c.comm.length) {
    console.log(
      formatTable(
        ['collective', 'alpha', 'bw_fraction', 'gpus', 'size_class', 'points', 'median_abs_err', 'max_abs_err'],
        c.comm.flatMap((f) => f.byClass.map((b) => [f.op, `${(f.alpha * 1e6).toFixed(1)} µs`, f.bwFraction.toFixed(3), f.gpus.join('/'), b.sizeClass, b.points, pct(b.medianAbsPctError), pct(b.maxAbsPctError)])),
      ),
    );
  } else console.log('comm: no collectives on 2+ GPUs measured: all-reduce and all-to-all α and bandwidth stay priors');
  if (!c.steps) return;
  const s = c.steps;
  console.log(
    formatTable(
      ['step', 'model', 'layers', 'B', 'tokens', 'ctx', 'measured_ms', 'model_ms', 'err', 'ops_only_ms', 'ops_only_err'],
      s.rows.map((r) => [r.op, r.model, r.layers, r.B, r.T, r.ctx, r.measuredMs.toFixed(3), r.modelMs.toFixed(3), pct(r.errPct), r.opsOnlyMs.toFixed(3), pct(r.opsOnlyErrPct)]),
    ),
  );
  console.log(
    `whole steps, graph-captured (${s.graph.points}): abs error median ${pct(s.graph.medianAbsPctError)}, max ${pct(s.graph.maxAbsPctError)}; ` +
      `ops only (no overhead term): median ${pct(s.graphOpsOnly.medianAbsPctError)}, max ${pct(s.graphOpsOnly.maxAbsPctError)}`,
  );
  if (s.priced.points) console.log(`steps of only the priced ops (${s.priced.points}) against the sum of the per-op model: abs error median ${pct(s.priced.medianAbsPctError)}, max ${pct(s.priced.maxAbsPctError)}`);
  console.log(`whole steps, eager with the launch term (${s.eager.points}): abs error median ${pct(s.eager.medianAbsPctError)}, max ${pct(s.eager.maxAbsPctError)}`);
}

for (const gpu of ['H100', 'H200']) {
  const files = defaultInputs(gpu);
  if (!fs.existsSync(files.kernels)) {
    console.log(`\n## ${gpu}: ${files.kernels} absent; skipped`);
    continue;
  }
  show(calibrateFiles(files));
}
