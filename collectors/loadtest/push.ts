// The load tester's Prometheus Pushgateway export: the old metric names as prom-client gauges,
// set from analysis/queries/loadtest_push.sql over the run's records (no statistic computed here)
// and pushed with job/instance grouping and basic auth every interval and once at the end.
// An unreachable gateway is a warning, counted; the load goes on.
import fs from 'node:fs';
import { Gauge, Pushgateway, Registry } from 'prom-client';
import { openCatalog, queryRows, sqlQuote } from '../../analysis/catalog.ts';
import type { PushConfig } from './config.ts';

export const PUSH_METRICS = {
  llm_client_lag_p50_seconds: 'client-side request latency p50 (last token − sent), seconds',
  llm_client_lag_p90_seconds: 'client-side request latency p90, seconds',
  llm_client_lag_p99_seconds: 'client-side request latency p99, seconds',
  llm_ttft_p50_seconds: 'time to first token p50, seconds',
  llm_ttft_p90_seconds: 'time to first token p90, seconds',
  llm_ttft_p99_seconds: 'time to first token p99, seconds',
  llm_tokens_per_second: 'output tokens per second since the start',
  llm_request_rate_per_second: 'successful requests per second since the start',
  llm_error_rate: 'failed / counted requests',
  llm_contention_error_rate: '(timeouts + HTTP 503) / counted requests',
  llm_active_users: 'virtual users running now',
} as const;
export type PushMetric = keyof typeof PUSH_METRICS;

const QUERY = fs.readFileSync(new URL('../../analysis/queries/loadtest_push.sql', import.meta.url), 'utf8');

/** The push figures over a run folder's records so far (lenient: the writers are still appending). */
export async function pushFigures(runDir: string, elapsedS: number, scenario: string): Promise<Record<string, number | null>> {
  const cat = await openCatalog({ runDirs: [runDir], lenient: true, warn: () => {} });
  try {
    await cat.conn.run(`SET VARIABLE elapsed_s = ${Number(elapsedS)}::DOUBLE`);
    await cat.conn.run(`SET VARIABLE scenario = ${sqlQuote(scenario)}`);
    const [row] = await queryRows(cat.conn, QUERY);
    return (row ?? {}) as Record<string, number | null>;
  } finally {
    cat.close();
  }
}

export interface Pusher {
  /** Computes the figures, sets the gauges and pushes; never throws (failures are counted). */
  push(elapsedS: number, activeUsers: number): Promise<boolean>;
  readonly pushes: number;
  readonly failures: number;
  /** Milliseconds each push took (query + HTTP), for the benchmark. */
  readonly costsMs: number[];
}

export function makePusher(cfg: PushConfig, runDir: string, scenario: string, warn: (m: string) => void, now: () => number = () => performance.now()): Pusher {
  const registry = new Registry();
  const gauges = Object.fromEntries(
    Object.entries(PUSH_METRICS).map(([name, help]) => [name, new Gauge({ name, help, registers: [registry] })]),
  ) as Record<PushMetric, Gauge>;
  const options: Record<string, unknown> = { timeout: 5_000 };
  if (cfg.username !== undefined) options.auth = `${cfg.username}:${cfg.password ?? ''}`;
  const gateway = new Pushgateway(cfg.url, options, registry);
  const state = { pushes: 0, failures: 0, costsMs: [] as number[] };
  return {
    get pushes() {
      return state.pushes;
    },
    get failures() {
      return state.failures;
    },
    get costsMs() {
      return state.costsMs;
    },
    async push(elapsedS, activeUsers) {
      const t0 = now();
      try {
        const fig = await pushFigures(runDir, elapsedS, scenario);
        for (const name of Object.keys(PUSH_METRICS) as PushMetric[]) {
          if (name === 'llm_active_users') continue;
          const v = fig[name];
          if (typeof v === 'number' && Number.isFinite(v)) gauges[name].set(v);
        }
        gauges.llm_active_users.set(activeUsers);
        await gateway.pushAdd({ jobName: cfg.job, groupings: { instance: cfg.instance } });
        state.pushes++;
        return true;
      } catch (err) {
        state.failures++;
        warn(`Pushgateway ${cfg.url}: push failed (${(err as Error).message}); the test goes on (${state.failures} failed so far)`);
        return false;
      } finally {
        state.costsMs.push(now() - t0);
      }
    },
  };
}
