// `loadtest --workers N`: the users split over N child processes (one core each), each writing
// its own shard of one run (raw/requests-<shard>.jsonl); the parent shows progress and pushes
// over all shards, forwards Ctrl-C/SIGTERM, and reports once every worker has drained.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { opt, type Parsed } from '../../core/args.ts';
import type { RunHandle } from '../../core/run.ts';
import type { LoadtestConfig } from './config.ts';
import { pushFigures } from './push.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/servelab.js');

/** Users of worker k of n: as even as possible, the first ones taking the remainder. */
export function usersOf(users: number, n: number, k: number): number {
  return Math.floor(users / n) + (k < users % n ? 1 : 0);
}

/** One worker's command line: the resolved servers and its share of the users, into the parent's run. */
export function workerArgs(cfg: LoadtestConfig, p: Parsed, run: RunHandle, k: number, n: number): string[] {
  const w = cfg.workload;
  const args = [
    'loadtest', '--config', cfg.file, '--worker', '--no-push',
    '--users', String(usersOf(w.users, n, k)), '--duration', String(w.durationS),
    // each worker ramps its share over the whole ramp, so the users together start evenly
    '--ramp-up', String(w.rampUpS), '--seed', String(w.seed),
    '--min-tokens', String(cfg.prompts.minTokens), '--max-tokens', String(cfg.prompts.maxTokens),
    '--scenario', opt.str(p, 'scenario')!, '--shard', String(run.shard + k), '--run-id', run.id,
    '--experiment', run.experiment, '--data', opt.str(p, 'data')!,
    '--timeout', String(opt.num(p, 'timeout')), '--grace', String(opt.num(p, 'grace')),
  ];
  for (const e of cfg.endpoints) args.push('--server', `${e.name}=${e.baseUrl}${e.path}`);
  if (cfg.endpoints.length === 1 && cfg.mixed) args.push('--only', cfg.endpoints[0]!.name);
  return args;
}

export interface WorkerHooks {
  onSpawn: (children: ChildProcess[]) => void;
  activeUsers: () => number;
  stderr?: NodeJS.WriteStream;
}

/** Runs the workers to the end; returns their exit codes. Progress every 10 s from the run's records (SQL). */
export async function runWorkers(cfg: LoadtestConfig, p: Parsed, run: RunHandle, hooks: WorkerHooks): Promise<number[]> {
  const n = opt.num(p, 'workers')!;
  const live = Array.from({ length: n }, (_, k) => k).filter((k) => usersOf(cfg.workload.users, n, k) > 0);
  const children = live.map((k) => spawn(process.execPath, [BIN, ...workerArgs(cfg, p, run, k, n)], { stdio: ['ignore', 'inherit', 'inherit'] }));
  hooks.onSpawn(children);
  const err = hooks.stderr ?? process.stderr;
  const t0 = performance.now();
  const scenario = opt.str(p, 'scenario')!;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const el = (performance.now() - t0) / 1000;
      const f = await pushFigures(run.dir, el, scenario);
      const left = Math.max(0, Math.round(cfg.workload.durationS - el));
      err.write(
        `[Progress @ ${Math.round(el)}s] Active Users: ${hooks.activeUsers()} | Requests: ${f.requests ?? 0} | RPS: ${(f.llm_request_rate_per_second ?? 0).toFixed(1)} | ` +
          `TPS: ${(f.llm_tokens_per_second ?? 0).toFixed(1)} tok/s | P90 Latency: ${(f.llm_client_lag_p90_seconds ?? 0).toFixed(2)}s | ` +
          `Errors: ${(100 * (f.llm_error_rate ?? 0)).toFixed(1)}% | Time Left: ${left}s\n`,
      );
    } catch {
      // a progress line is best effort; the records are what count
    } finally {
      busy = false;
    }
  }, 10_000);
  timer.unref();
  try {
    return await Promise.all(children.map((c) => new Promise<number>((resolve) => c.once('exit', (code, sig) => resolve(code ?? (sig ? 1 : 0))))));
  } finally {
    clearInterval(timer);
  }
}
