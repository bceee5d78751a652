// Queueing checks at benchmark scale: for every case (M/M/8 Erlang C, M/D/1 and M/G/1
// Pollaczek–Khinchine at ρ = 0.5, 0.8, 0.95) prints theory, simulated W_q ± 95% CI and relative error.
import { QUEUE_CASES, checkQueue, littleCheck, poissonTrace } from '../simulator/sched/queueing.ts';
import { simulateEvents } from '../simulator/sched/event.ts';

// Replications × jobs grow with the load: the variance of a run's mean wait grows as 1/(1−ρ)⁴.
const plan = (rho: number): [number, number] => (rho < 0.6 ? [20, 50_000] : rho < 0.9 ? [20, 100_000] : [20, 200_000]);
const scale = Number(process.env.QUEUE_BENCH_SCALE ?? 1);

console.log('FIFO on the event-driven engine, W_q (mean time in queue, service mean 1), first 10% of each run dropped');
console.log(`${'check'.padEnd(36)} ${'reps×jobs'.padStart(12)} ${'theory'.padStart(9)} ${'simulated'.padStart(9)} ${'±95% CI'.padStart(8)} ${'rel.err'.padStart(8)}  covered  ${'jobs/s'.padStart(9)}`);
let worst = 0;
for (const q of QUEUE_CASES) {
  const [reps, jobs0] = plan(q.rho);
  const jobs = Math.max(1000, Math.round(jobs0 * scale));
  const t0 = performance.now();
  const r = checkQueue(q, jobs, reps, 42);
  const s = (performance.now() - t0) / 1000;
  worst = Math.max(worst, Math.abs(r.relError));
  console.log(
    `${r.name.padEnd(36)} ${`${reps}×${jobs}`.padStart(12)} ${r.theory.toFixed(4).padStart(9)} ${r.mean.toFixed(4).padStart(9)} ${r.halfWidth.toFixed(4).padStart(8)} ${`${(r.relError * 100).toFixed(2)}%`.padStart(8)}  ${r.covered ? 'yes' : 'NO '}      ${Math.round((reps * jobs) / s).toLocaleString('en-US').padStart(9)}`,
  );
}
console.log(`largest |relative error|: ${(worst * 100).toFixed(2)}%`);

// Little's law on one long run per case: relative gap between ∫N(t)dt and Σ sojourn (exact up to rounding).
let little = 0;
for (const q of QUEUE_CASES) {
  const c = littleCheck(simulateEvents(poissonTrace(q, 100_000, 7), { gpus: q.servers, scheduler: 'FIFO', maxTime: Infinity }));
  little = Math.max(little, Math.abs(c.areaInSystem - c.sumSojourn) / c.sumSojourn, Math.abs(c.areaInQueue - c.sumWait) / Math.max(c.sumWait, 1e-300));
}
console.log(`Little's law, largest relative gap L·T vs λW·T (and L_q) over ${QUEUE_CASES.length} runs of 100,000 jobs: ${little.toExponential(2)}`);
