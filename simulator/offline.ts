// The offline runner: a cluster of token-level engines on a virtual clock. Arrivals stream in
// order; replica wake-ups sit in a binary heap ordered by (time, event priority, sequence).
// Records go to a sink in the record contract (requests, chunks, sim_steps, sim_intervals, gate_loads).
import { type Cluster, type ClusterConfig, createCluster } from './cluster.ts';
import { Heap } from './engine/heap.ts';
import type { EngineListener, FinishInfo, FinishReason } from './types.ts';
import type { WorkloadRequest } from './workloads/index.ts';
import { promptHash, wordCount } from '../core/prompt-fields.ts';
import type { RunHandle } from '../core/run.ts';
import type { RecordOf, TableName } from '../core/schema.ts';

/** Where records go: a RunHandle, or anything with its append. */
export interface RecordSink {
  append<T extends TableName>(table: T, record: Omit<RecordOf<T>, 'run' | 'shard'>, name?: string): void;
}

export interface OfflineOptions {
  cluster: ClusterConfig;
  requests: Iterable<WorkloadRequest>;
  /** No sink: nothing is written (benchmarks); counters only. */
  sink?: RecordSink;
  /** Tables to write besides requests. Default: steps and intervals on, chunks off, gates on for MoE. */
  write?: { chunks?: boolean; steps?: boolean; intervals?: boolean; gates?: boolean; gateMinTokens?: number };
  /** Served model name for the requests' `model` field. */
  model?: string;
  /** Called every `progressEvery` finished requests. */
  onProgress?: (finished: number, simSeconds: number) => void;
  progressEvery?: number;
}

export interface OfflineSummary {
  requests: number;
  finished: number;
  aborted: number;
  /** Arrivals + engine steps (a closed-form stretch counts once) + completions. */
  events: number;
  steps: number;
  stretches: number;
  preemptions: number;
  outputTokens: number;
  /** Simulated time of the last completion, seconds. */
  simSeconds: number;
}

const ns = (t: number): number | null => (Number.isFinite(t) ? Math.round(t * 1e9) : null);

// Event priorities at equal times: a step's end is handled before an arrival at that instant.
const STEP_END = 0;

interface Wake {
  t: number;
  prio: number;
  seq: number;
  replica: number;
  version: number;
}

export function runOffline(opts: OfflineOptions): OfflineSummary {
  const sink = opts.sink;
  const w = {
    chunks: !!opts.write?.chunks,
    steps: opts.write?.steps ?? true,
    intervals: opts.write?.intervals ?? true,
    gates: opts.write?.gates ?? true,
    gateMinTokens: opts.write?.gateMinTokens ?? 0,
  };
  // Gate rows are many (steps × layers × experts): a RunHandle gets pre-serialized lines.
  const lineSink = sink && 'writer' in sink && 'id' in sink ? (sink as unknown as RunHandle) : undefined;
  const sum: OfflineSummary = { requests: 0, finished: 0, aborted: 0, events: 0, steps: 0, stretches: 0, preemptions: 0, outputTokens: 0, simSeconds: 0 };
  const meta = new Map<string, { req: WorkloadRequest; replica: number; chunk: number }>();
  const busy: { start: number; end: number }[] = [];
  const progressEvery = opts.progressEvery ?? 10000;

  const flushBusy = (r: number) => {
    const b = busy[r];
    if (b && sink && w.intervals) sink.append('sim_intervals', { resource: `replica${r}`, kind: 'busy', request_id: null, start_ns: ns(b.start)!, end_ns: ns(b.end)! });
    busy[r] = undefined as unknown as { start: number; end: number };
  };

  const listenerFor = (r: number): EngineListener => ({
    onTokens: (id, t, n) => {
      if (!sink || !w.chunks) return;
      const m = meta.get(id)!;
      sink.append('chunks', { request_id: id, idx: m.chunk++, t_ns: ns(t)!, tokens: n });
    },
    onFinish: (id, t, reason: FinishReason, info?: FinishInfo) => {
      const m = meta.get(id)!;
      meta.delete(id);
      sum.finished++;
      sum.events++;
      if (reason === 'abort') sum.aborted++;
      if (t > sum.simSeconds) sum.simSeconds = t;
      sum.outputTokens += info?.outputTokens ?? 0;
      if (opts.onProgress && sum.finished % progressEvery === 0) opts.onProgress(sum.finished, t);
      if (!sink) return;
      const q = m.req;
      const at = ns(q.arrival);
      sink.append('requests', {
        request_id: id,
        endpoint: q.endpoint ?? 'default',
        protocol: 'sim',
        model: q.model ?? opts.model ?? null,
        adapter: q.adapter ?? null,
        gpu: m.replica,
        phase: 'main',
        dataset: q.dataset ?? null,
        prompt_hash: q.content ? promptHash(q.content) : null,
        prompt_words: q.content ? wordCount(q.content) : null,
        prompt_tokens_server: q.promptTokens,
        output_tokens_requested: q.maxTokens,
        output_tokens_server: info?.outputTokens ?? null,
        output_tokens: info?.outputTokens ?? null,
        scheduled_ns: at,
        sent_ns: at,
        first_token_ns: ns(info?.firstToken ?? NaN),
        last_token_ns: ns(info?.lastToken ?? NaN),
        done_ns: ns(t),
        finish_reason: reason,
        status: reason === 'abort' ? 'cancelled' : 'ok',
        error: info?.error ?? null,
        priority: q.priority ?? null,
        preemptions: info?.preemptions ?? 0,
        // LoRA: the adapter was resident when first scheduled (as the simulated /generate server reports it).
        adapter_resident: info?.adapterResident ?? null,
      });
    },
    onPreempt: () => void sum.preemptions++,
    onStep: (s) => {
      sum.events++;
      sum.steps += s.steps ?? 1;
      if ((s.steps ?? 1) > 1) sum.stretches++;
      if (!sink) return;
      if (w.steps) {
        sink.append('sim_steps', {
          replica: r,
          step: s.step,
          steps: s.steps ?? 1,
          start_ns: ns(s.start)!,
          end_ns: ns(s.end)!,
          batch_size: s.batchSize,
          prefill_tokens: s.prefillTokens,
          decode_tokens: s.decodeTokens,
          waiting: s.waiting,
          kv_usage: s.kvUsage,
          preempted: s.preempted ?? 0,
          bottleneck: s.bottleneck,
        });
      }
      if (w.intervals) {
        if (s.swapSeconds && s.swapSeconds > 0) {
          sink.append('sim_intervals', { resource: `replica${r}`, kind: 'swap', request_id: null, start_ns: ns(s.start)!, end_ns: ns(s.start + s.swapSeconds)! });
        }
        const b = busy[r];
        if (b && b.end === s.start) b.end = s.end;
        else {
          flushBusy(r);
          busy[r] = { start: s.start, end: s.end };
        }
      }
    },
    onGates: (step, t, counts, stepTokens) => {
      if (!sink || !w.gates || stepTokens < w.gateMinTokens) return;
      const tn = ns(t);
      if (lineSink) {
        const out = lineSink.writer('gate_loads', `replica${r}`);
        const head = `{"run":${JSON.stringify(lineSink.id)},"shard":${lineSink.shard},"source":"replica${r}","step":${step},"layer":`;
        const tail = `,"step_tokens":${stepTokens},"t_ns":${tn}}\n`;
        for (let l = 0; l < counts.length; l++) {
          const row = counts[l]!;
          for (let e = 0; e < row.length; e++) out.writeLine(`${head}${l},"expert":${e},"tokens":${row[e]}${tail}`);
        }
        return;
      }
      for (let l = 0; l < counts.length; l++) {
        const row = counts[l]!;
        for (let e = 0; e < row.length; e++) {
          sink.append('gate_loads', { source: `replica${r}`, step, layer: l, expert: e, tokens: row[e]!, step_tokens: stepTokens, t_ns: tn }, `replica${r}`);
        }
      }
    },
  });

  const cluster: Cluster = createCluster(opts.cluster, listenerFor);
  const engines = cluster.replicas.map((r) => r.engine);
  const version = new Array<number>(engines.length).fill(0);
  let seq = 0;
  const heap = new Heap<Wake>((a, b) => (a.t !== b.t ? a.t < b.t : a.prio !== b.prio ? a.prio < b.prio : a.seq < b.seq));
  const dirty: number[] = [];
  const isDirty = new Uint8Array(engines.length);
  const markDirty = (r: number) => {
    if (!isDirty[r]) {
      isDirty[r] = 1;
      dirty.push(r);
    }
  };
  const reschedule = () => {
    for (const r of dirty) {
      isDirty[r] = 0;
      const t = engines[r]!.nextEventTime();
      version[r]!++;
      if (t !== undefined) heap.push({ t, prio: STEP_END, seq: seq++, replica: r, version: version[r]! });
    }
    dirty.length = 0;
  };
  /** Brings every replica with a step ending at or before t up to t. */
  const advanceTo = (t: number) => {
    for (;;) {
      const top = heap.peek();
      if (!top || top.t > t) return;
      heap.pop();
      if (top.version !== version[top.replica]) continue;
      version[top.replica]!++;
      engines[top.replica]!.advanceTo(t);
      markDirty(top.replica);
    }
  };

  const it = opts.requests[Symbol.iterator]();
  let nx = it.next();
  while (!nx.done) {
    const req = nx.value;
    advanceTo(req.arrival);
    const r = cluster.router.pick(req, cluster.replicas);
    meta.set(req.id, { req, replica: r, chunk: 0 });
    sum.requests++;
    sum.events++;
    engines[r]!.add(req);
    markDirty(r);
    nx = it.next();
    // Requests arriving at the same instant join the same step: reschedule after the last of them.
    if (nx.done || nx.value.arrival !== req.arrival) reschedule();
  }
  for (let r = 0; r < engines.length; r++) engines[r]!.advanceTo(Infinity);
  for (let r = 0; r < engines.length; r++) flushBusy(r);
  return sum;
}
