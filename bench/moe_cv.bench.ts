// Benchmark: real MoE imbalance (per-step and aggregated CV, EP-rank load) over about 1 GB of
// generated gate-log JSONL, the way `servelab moe cv` reads it. Prints seconds and MB/s.
// MOE_CV_BENCH_MB sets the size (default 1024); the files are made in a temp dir and deleted
// (MOE_CV_BENCH_DIR=DIR keeps them there).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeCv } from '../collectors/moe/cv.ts';

const targetMb = Number(process.env.MOE_CV_BENCH_MB ?? 1024);
const REPLICAS = 4;
const LAYERS = 32;
const EXPERTS = 8;

/** Writes gate_logs_<r>.jsonl files like the simulated server's, skewed per layer; returns bytes. */
function generate(dir: string): number {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  // A pool of count vectors per layer (skew grows with the layer), drawn from while writing.
  const pool = Array.from({ length: LAYERS }, (_, layer) =>
    Array.from({ length: 64 }, () => {
      const counts = new Array<number>(EXPERTS).fill(0);
      for (let k = 0; k < 128; k++) counts[Math.floor(rnd() ** (1 + layer / 32) * EXPERTS)]!++;
      return counts.join(',');
    }),
  );
  let bytes = 0;
  const perFile = (targetMb * 1024 * 1024) / REPLICAS;
  for (let r = 0; r < REPLICAS; r++) {
    const fd = fs.openSync(path.join(dir, `gate_logs_${r}.jsonl`), 'w');
    let written = 0;
    let chunk = '';
    for (let step = 0; written < perFile; step++) {
      const tokens = step % 500 === 0 ? 4096 : 8 + Math.floor(rnd() * 256);
      const t = (step * 0.015).toFixed(6);
      for (let layer = 0; layer < LAYERS; layer++) {
        chunk += `{"step":${step},"layer":${layer},"num_tokens":${tokens},"expert_counts":[${pool[layer]![Math.floor(rnd() * 64)]}],"rank":${r},"t":${t}}\n`;
      }
      if (chunk.length > 1 << 22) {
        written += fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    written += fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    bytes += written;
  }
  return bytes;
}

const keep = process.env.MOE_CV_BENCH_DIR; // generate there and keep the files (for profiling)
const dir = keep ? (fs.mkdirSync(keep, { recursive: true }), keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-moe-cv-bench-'));
try {
  const g0 = performance.now();
  const bytes = generate(dir);
  const mb = bytes / 1024 / 1024;
  console.log(`generated ${mb.toFixed(0)} MB of gate logs (${REPLICAS} files, ${LAYERS} layers × ${EXPERTS} experts) in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
  const t0 = performance.now();
  const r = await computeCv([dir]);
  const s = (performance.now() - t0) / 1000;
  const x = r.summaries[0]!;
  console.log(`per-step + aggregated CV + EP-rank load: ${s.toFixed(1)} s, ${(mb / s).toFixed(0)} MB/s (target ≤ 30 s for 1 GB)`);
  console.log(`  ${x.steps} steps (${x.warmup_steps} warm-up), per-step CV ${x.per_step_cv?.toFixed(4)}, aggregated CV ${x.aggregated_cv?.toFixed(4)}, max/min ${x.max_min_ratio?.toFixed(3)}`);
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
}
