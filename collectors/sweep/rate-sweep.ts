// The general rate sweep under `servelab sweep` and `servelab lora probe`: each point (a rate, or
// GuideLLM's synchronous / throughput runs) is a phase of one run, its records tagged in `extra`
// (sweep_group, sweep_index, sweep_mode, sweep_rate); statuses, saturation and the SLA answer
// come from the sweep_status stage (analysis/sweep/status.sql), never from TypeScript.
import type { Dispatcher } from 'undici';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { runStages } from '../../analysis/stages.ts';
import type { Clock } from '../../core/clock.ts';
import type { RunHandle } from '../../core/run.ts';
import { usageError } from '../../core/errors.ts';
import { runLoad } from '../bench.ts';
import type { Endpoint } from '../client.ts';
import type { LoadEngine, LoadOutcome, WorkItem } from '../engine.ts';
import { parseThreshold } from '../bench.ts';

export const SWEEP_MODES = ['rate', 'synchronous', 'throughput'] as const;
export type SweepMode = (typeof SWEEP_MODES)[number];

export interface SweepPoint {
  index: number;
  mode: SweepMode;
  /** Offered req/s for mode 'rate'. */
  rate: number | null;
}

export interface PointOptions {
  endpoint: Endpoint;
  items: WorkItem[];
  group: string;
  point: SweepPoint;
  /** Window of the point (s); or `count` requests. */
  durationS?: number;
  count?: number;
  /** Users of the throughput point. */
  maxConcurrency?: number;
  timeoutMs: number;
  seed: number;
  stream: boolean;
}

export interface PointEffects {
  /** One clock for every point of a command, so sent_ns orders across points. */
  clock?: Clock;
  dispatcher?: Dispatcher;
  onRecord?: () => void;
  onEngine?: (e: LoadEngine) => void;
  warn?: (m: string) => void;
}

/** Parses a rate list "0.5,1,2": every rate a number > 0, at least one. */
export function parseRates(text: string, flag = '--arrival-rates'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw usageError(`${flag}: empty rate list; give rates in req/s, e.g. "0.5,1,2,4,8"`);
  return parts.map((s) => {
    const r = Number(s);
    if (!(r > 0) || !Number.isFinite(r)) throw usageError(`${flag}: '${s}' is not a rate > 0 (req/s), e.g. "0.5,1,2,4,8"`);
    return r;
  });
}

/** Runs one point into the run: its records carry the point's tags. */
export async function runPoint(run: RunHandle, o: PointOptions, fx: PointEffects = {}): Promise<LoadOutcome> {
  const tags = { sweep_group: o.group, sweep_index: o.point.index, sweep_mode: o.point.mode, sweep_rate: o.point.rate };
  const items = o.items.map((it) => ({ ...it, base: { ...it.base, extra: { ...((it.base?.extra as object) ?? {}), ...tags } } }));
  const p = o.point;
  const closed = p.mode === 'synchronous' ? { users: 1 } : p.mode === 'throughput' ? { users: o.maxConcurrency ?? 64 } : undefined;
  return runLoad(
    run,
    {
      endpoints: [o.endpoint], items, requestRate: p.rate ?? Infinity, closed, durationS: o.durationS, numPrompts: o.count,
      timeoutMs: o.timeoutMs, seed: o.seed + p.index, stream: o.stream, graceMs: 2_000,
    },
    { clock: fx.clock, dispatcher: fx.dispatcher, onRecord: fx.onRecord, onEngine: fx.onEngine, warn: fx.warn },
  );
}

export type StatusRow = Record<string, unknown> & { sweep_index: number; status: string; saturated: boolean; offered_rate: number | null; achieved_rate: number | null };

/** Builds the sweep stages of the run (into its derived/) and returns sweep_status rows (optionally of one group). */
export async function sweepStatus(runDir: string, group?: string): Promise<StatusRow[]> {
  await runStages({ runDir, stages: ['sweep_status'], log: () => {} });
  return (await queryStage(runDir, 'sweep_status', group === undefined ? '' : `WHERE sweep_group = ${sqlString(group)}`)) as StatusRow[];
}

/** Rows of a built stage of one run. */
export async function queryStage(runDir: string, stage: string, where = '', order = 'ORDER BY ALL'): Promise<Record<string, unknown>[]> {
  const cat = await openCatalog({ runDirs: [runDir] });
  try {
    return await queryRows(cat.conn, `SELECT * FROM read_parquet(${sqlString(`${runDir}/derived/${stage}.parquet`)}, hive_partitioning = false) ${where} ${order}`);
  } finally {
    cat.close();
  }
}

export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** SLO keys a --sla may name: columns of sweep_status. */
export const SLA_KEYS = ['p50_ttft_ms', 'p90_ttft_ms', 'p99_ttft_ms', 'mean_ttft_ms', 'p50_latency_ms', 'p99_latency_ms', 'error_rate', 'achieved_rate'] as const;

/** Checks --sla expressions (k6-style, e.g. p99_ttft_ms<500) and returns them as one SQL predicate over sweep_status. */
export function slaPredicate(slos: readonly string[]): string {
  if (slos.length === 0) throw usageError('--sla: give at least one SLO, e.g. "p99_ttft_ms<500"');
  return slos
    .map((t) => {
      const th = parseThreshold(t);
      if (!(SLA_KEYS as readonly string[]).includes(th.key)) throw usageError(`--sla '${t}': ${th.key} is not an SLO key`, [`keys: ${SLA_KEYS.join(' ')}`]);
      return `coalesce(${th.key} ${th.op === '==' ? '=' : th.op} ${th.limit}, false)`;
    })
    .join(' AND ');
}

/** Which points of a group meet every SLO, answered in SQL over sweep_status. */
export async function slaAnswer(runDir: string, group: string, slos: readonly string[]): Promise<{ sweep_index: number; offered_rate: number | null; meets: boolean }[]> {
  const pred = slaPredicate(slos);
  const cat = await openCatalog({ runDirs: [runDir] });
  try {
    return (await queryRows(
      cat.conn,
      `SELECT sweep_index, offered_rate, (${pred}) AND status <> 'TOO HIGH' AS meets FROM read_parquet(${sqlString(`${runDir}/derived/sweep_status.parquet`)}, hive_partitioning = false) WHERE sweep_group = ${sqlString(group)} ORDER BY sweep_index`,
    )) as { sweep_index: number; offered_rate: number | null; meets: boolean }[];
  } finally {
    cat.close();
  }
}
