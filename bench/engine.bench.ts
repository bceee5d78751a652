// Token-level engine benchmark: 1,000,000 requests with ShareGPT-like lengths over 8 replicas of
// Llama-3-8B on H100 at 80% of capacity. Records are not written (no sink): it measures the simulator.
// ENGINE_BENCH_REQUESTS=N runs fewer requests.
import { runOffline } from '../simulator/offline.ts';
import { engineSetup } from '../simulator/sim-setup.ts';
import { generateWorkload, type LengthSpec } from '../simulator/workloads/index.ts';

const N = Number(process.env.ENGINE_BENCH_REQUESTS ?? 1_000_000);
const REPLICAS = 8;
const LOAD = 0.8;
// ShareGPT-like: log-normal, means 250 (prompt) and 200 (output), long tails capped at 4096.
const input: LengthSpec = { kind: 'lognormal', mean: 250, sigma: 0.8, max: 4096 };
const output: LengthSpec = { kind: 'lognormal', mean: 200, sigma: 0.8, max: 4096 };

const { engine } = engineSetup({ model: 'Llama-3-8B', gpu: 'H100', tokenEvents: false });

// Capacity of one replica: its completion rate when saturated (requests far faster than it serves).
const calib = 20_000;
const sat = runOffline({
  cluster: { replicas: 1, router: 'round-robin', engine },
  requests: generateWorkload({ arrival: { kind: 'poisson', rate: 1e5 }, count: calib, input, output, seed: 7 }),
});
const capacity = calib / sat.simSeconds;
const rate = LOAD * REPLICAS * capacity;
console.log(`capacity: ${capacity.toFixed(2)} req/s per replica (saturated run of ${calib}); rate at ${LOAD * 100}% of ${REPLICAS} replicas: ${rate.toFixed(1)} req/s`);

const rss0 = process.memoryUsage().rss;
let peakRss = rss0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const s = runOffline({
  cluster: { replicas: REPLICAS, router: 'round-robin', engine },
  requests: generateWorkload({ arrival: { kind: 'poisson', rate }, count: N, input, output, seed: 1 }),
  progressEvery: 50_000,
  onProgress: () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  },
});
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(`requests:        ${s.finished} (${s.aborted} aborted), ${s.outputTokens} output tokens, ${s.preemptions} preemptions`);
console.log(`engine steps:    ${s.steps} (${s.stretches} closed-form stretches), events ${s.events}`);
console.log(`wall:            ${wall.toFixed(2)} s (target ≤ 20 s); CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
console.log(`peak RSS:        ${(peakRss / 2 ** 20).toFixed(0)} MiB (target ≤ 2048 MiB)`);
console.log(`events/s:        ${(s.events / wall).toFixed(0)}`);
console.log(`simulated:       ${s.simSeconds.toFixed(1)} s; ${(s.simSeconds / wall).toFixed(1)} simulated s per wall s`);
console.log('records:         not written (no sink); `servelab sim run` writes them');
