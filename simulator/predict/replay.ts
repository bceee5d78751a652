// Replays a measured run's requests through the offline engine: each request arrives at its
// measured sent_ns with its measured prompt tokens and generates exactly the output tokens it
// received. Requests go to their server's target by endpoint name, URL or the only server;
// datasets measured one after another (MoE) replay as separate segments on an idle server.
import { usageError } from '../../core/errors.ts';
import type { RecordOf, TableName } from '../../core/schema.ts';
import type { RouterKind } from '../cluster.ts';
import { runOffline, type OfflineSummary, type RecordSink } from '../offline.ts';
import { replicaCount } from '../server/config.ts';
import { engineConfig } from '../server/engine-factory.ts';
import type { WorkloadRequest } from '../workloads/index.ts';
import type { PredictTarget } from './config.ts';

/** The measured columns a replay reads, column-wise (one array per column, same length). */
export interface MeasuredColumns {
  request_id: string[];
  endpoint: (string | null)[];
  url: (string | null)[];
  model: (string | null)[];
  adapter: (string | null)[];
  phase: (string | null)[];
  dataset: (string | null)[];
  status: string[];
  sent_ns: (number | null)[];
  scheduled_ns: (number | null)[];
  sent_unix_ms: (number | null)[];
  prompt_tokens: (number | null)[];
  output_tokens: (number | null)[];
  /** Prompt text when known (MoE routing depends on it), else null. */
  content: (string | null)[];
}

export interface ReplayOptions {
  targets: PredictTarget[];
  measured: MeasuredColumns;
  /** Where predicted records go (requests → predicted_requests, gate_loads → predicted_gate_loads). */
  sink?: RecordSink;
  gates?: boolean;
  onProgress?: (done: number) => void;
}

export interface ReplaySummary {
  replayed: number;
  /** Requests not replayed, by reason (failed in the measurement, no timestamps, no tokens). */
  skipped: Record<string, number>;
  segments: number;
  engine: Pick<OfflineSummary, 'steps' | 'preemptions' | 'aborted' | 'outputTokens'>;
}

const origin = (u: string | null) => (u ? u.replace(/^(https?:\/\/[^/]+).*$/, '$1') : null);

/** Target index of each measured request (−1: none matches). */
export function assignTargets(targets: readonly PredictTarget[], m: MeasuredColumns): Int32Array {
  const byName = new Map(targets.map((t, i) => [t.name, i]));
  const byUrl = new Map(targets.filter((t) => t.url).map((t) => [origin(t.url), targets.indexOf(t)]));
  const out = new Int32Array(m.request_id.length);
  for (let i = 0; i < out.length; i++) {
    const e = m.endpoint[i];
    const n = (e !== null ? byName.get(e) : undefined) ?? byUrl.get(origin(m.url[i] ?? null)) ?? (targets.length === 1 ? 0 : undefined);
    out[i] = n ?? -1;
  }
  return out;
}

/**
 * Segments of a target's requests that replay on a fresh cluster: the whole target, or one per
 * dataset when its datasets were measured one after another (their send spans do not overlap:
 * by the wall clock when recorded, else by the run clock). Independent of whether the run's ns
 * clock restarts per dataset.
 */
export function segmentsOf(idx: readonly number[], m: MeasuredColumns): number[][] {
  const byDs = new Map<string, number[]>();
  for (const i of idx) {
    const k = m.dataset[i] ?? '';
    let g = byDs.get(k);
    if (!g) byDs.set(k, (g = []));
    g.push(i);
  }
  if (byDs.size <= 1) return [idx.slice()];
  const wall = idx.every((i) => m.sent_unix_ms[i] !== null);
  const span = (g: number[]) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of g) {
      const t = wall ? m.sent_unix_ms[i]! : m.sent_ns[i]! / 1e6;
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    return [lo, hi] as const;
  };
  const spans = [...byDs.values()].map((g) => ({ g, s: span(g) })).sort((a, b) => a.s[0] - b.s[0]);
  for (let k = 1; k < spans.length; k++) if (spans[k]!.s[0] <= spans[k - 1]!.s[1]) return [idx.slice()];
  return spans.map((x) => x.g);
}

type Skip = 'failed' | 'no send time' | 'no prompt tokens' | 'no output tokens' | 'no server';

export function replay(o: ReplayOptions): ReplaySummary {
  const m = o.measured;
  const n = m.request_id.length;
  const who = assignTargets(o.targets, m);
  const skipped: Record<string, number> = {};
  const per: number[][] = o.targets.map(() => []);
  const skip = (why: Skip) => void (skipped[why] = (skipped[why] ?? 0) + 1);
  for (let i = 0; i < n; i++) {
    if (m.status[i] !== 'ok') skip('failed');
    else if ((m.sent_ns[i] ?? m.scheduled_ns[i]) === null) skip('no send time');
    else if (!(m.prompt_tokens[i]! >= 1)) skip('no prompt tokens');
    else if (!(m.output_tokens[i]! >= 1)) skip('no output tokens');
    else if (who[i]! < 0) skip('no server');
    else per[who[i]!]!.push(i);
  }
  const sum: ReplaySummary = { replayed: 0, skipped, segments: 0, engine: { steps: 0, preemptions: 0, aborted: 0, outputTokens: 0 } };
  o.targets.forEach((t, ti) => {
    const segs = segmentsOf(per[ti]!, m);
    for (const seg of segs) {
      if (seg.length === 0) continue;
      sum.segments++;
      const at = (i: number) => (m.sent_ns[i] ?? m.scheduled_ns[i])!;
      seg.sort((a, b) => at(a) - at(b) || a - b);
      const requests = function* (): Generator<WorkloadRequest> {
        for (const i of seg) {
          yield {
            id: m.request_id[i]!,
            arrival: at(i) / 1e9,
            promptTokens: m.prompt_tokens[i]!,
            maxTokens: m.output_tokens[i]!,
            ignoreEos: true,
            adapter: m.adapter[i],
            content: m.content[i] ?? undefined,
            endpoint: m.endpoint[i] ?? t.name,
            model: m.model[i] ?? t.config.servedModelName,
            dataset: m.dataset[i] ?? undefined,
          };
        }
      };
      const phase = new Map<string, string>();
      for (const i of seg) if (m.phase[i] && m.phase[i] !== 'main') phase.set(m.request_id[i]!, m.phase[i]!);
      // Predicted gate sources <endpoint>/<dataset>/replica<r>, so their group matches the measured <backend>/<dataset>.
      const ds = m.dataset[seg[0]!];
      const group = ds !== null && seg.every((i) => m.dataset[i] === ds) ? `${t.name}/${ds}` : t.name;
      const s = runOffline({
        cluster: {
          replicas: replicaCount(t.config),
          router: t.config.routing as RouterKind,
          seed: t.config.seed,
          engine: (r) => engineConfig(t.config, r, { model: t.model, gpuMemoryUtilization: t.gpuMemoryUtilization, tokenEvents: false }),
        },
        requests: requests(),
        sink: o.sink ? predictedSink(o.sink, phase, group) : undefined,
        write: { steps: false, intervals: false, gates: o.gates ?? true },
        model: t.config.servedModelName,
        onProgress: o.onProgress ? (finished) => o.onProgress!(sum.replayed + finished) : undefined,
        progressEvery: 10000,
      });
      sum.replayed += s.finished - s.aborted;
      sum.engine.steps += s.steps;
      sum.engine.preemptions += s.preemptions;
      sum.engine.aborted += s.aborted;
      sum.engine.outputTokens += s.outputTokens;
    }
  });
  if (sum.replayed === 0 && n > 0) {
    const why = Object.entries(skipped).map(([k, v]) => `${v} ${k}`).join(', ');
    throw usageError(`nothing to replay: none of the run's ${n} requests has what a replay needs (${why})`);
  }
  return sum;
}

/** Renames the offline runner's tables to the prediction's and keeps the measured phase and group. */
function predictedSink(sink: RecordSink, phase: Map<string, string>, group: string): RecordSink {
  return {
    append<T extends TableName>(table: T, record: Omit<RecordOf<T>, 'run' | 'shard'>, name?: string) {
      if (table === 'requests') {
        const r = record as Omit<RecordOf<'requests'>, 'run' | 'shard'>;
        const p = phase.get(r.request_id);
        sink.append('predicted_requests', p ? { ...r, phase: p as 'warmup' } : r);
      } else if (table === 'gate_loads') {
        const g = record as Omit<RecordOf<'gate_loads'>, 'run' | 'shard'>;
        sink.append('predicted_gate_loads', { ...g, source: `${group}/${g.source}` }, `${group}/${name ?? g.source}`.replace(/[^\w.-]+/g, '_'));
      }
    },
  };
}
