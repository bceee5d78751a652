// One simulated server (one port): the replicas' driver, the router in front of them, the
// adapters it knows, gate logs, faults and metrics. Protocol modules call admit() with a
// parsed request and a sink; everything they share lives here.
import type { EngineStats, FinishReason } from '../types.ts';
import { message } from '../../core/messages.ts';
import type { ServerConfig } from './config.ts';
import { replicaCount } from './config.ts';
import { RealClockDriver, type DriverEffects, type EngineFactory, realEffects } from './driver.ts';
import { GateLogs } from './gates.ts';
import type { GenerationSink, GenRequest, SinkObserver, StreamFaults } from './generation.ts';
import { HttpError } from './http.ts';
import { LatenessWindow, ServerMetrics } from './metrics.ts';
import { mix32 } from './text.ts';
import { createRouter, type ReplicaLoad, type Router } from '../cluster.ts';
import type { MoeRouter } from '../engine/moe-router.ts';
import { encodeNpy } from '../../core/npy.ts';

export interface Adapter {
  name: string;
  path: string;
  /** /generate model_id, when the adapter came from --total-loras. */
  modelId: number | null;
}

export interface SwapCounters {
  swap_calls: number;
  swap_count: number;
}

export interface InstanceEffects extends DriverEffects {
  /** Called when the crash fault fires (default: process.exit(1)). */
  crash: (why: string) => void;
  warn: (line: string) => void;
  unixSeconds: () => number;
}

export const defaultInstanceEffects: InstanceEffects = {
  ...realEffects,
  crash: (why) => {
    process.stderr.write(`servelab sim serve: fault injection: ${why}; exiting\n`);
    process.exit(1);
  },
  warn: (line) => process.stderr.write(`servelab sim serve: warning: ${line}\n`),
  unixSeconds: () => Date.now() / 1000,
};

/** Tokens between lateness checks, and the minimum before the first warning. */
const LATENESS_WINDOW = 2000;

export class SimInstance implements SinkObserver {
  readonly driver: RealClockDriver;
  readonly metrics: ServerMetrics;
  readonly gates: GateLogs;
  readonly adapters = new Map<string, Adapter>();
  readonly active = new Map<string, { gen: GenRequest; sink: GenerationSink }>();
  readonly startedMs: number;
  readonly created: number;
  swapInit: SwapCounters = { swap_calls: 0, swap_count: 0 };
  swapRuntime: SwapCounters = { swap_calls: 0, swap_count: 0 };
  private lastSwapT = -1;
  private readonly router: Router;
  private readonly loads: ReplicaLoad[];
  private lastMisses: number[] = [];
  private arrivals = 0;
  private seq = 0;
  private readonly window = new LatenessWindow();
  private warned = false;

  constructor(
    readonly config: ServerConfig,
    createEngine: EngineFactory,
    readonly fx: InstanceEffects = defaultInstanceEffects,
  ) {
    const replicas = replicaCount(config);
    this.startedMs = fx.nowMs();
    this.created = Math.floor(fx.unixSeconds());
    this.metrics = new ServerMetrics(config.servedModelName, replicas, !!config.lora || config.runtimeLoraUpdating);
    this.gates = new GateLogs(replicas, config.gateLogDir);
    this.driver = new RealClockDriver(
      replicas,
      createEngine,
      {
        onGates: (r, step, t, counts, tokens) => this.gates.onGates(r, step, t, counts, tokens),
        onStep: (r, info) => this.metrics.replica[r]!.iteration.observe(info.prefillTokens + info.decodeTokens, info.steps ?? 1),
        onLateness: (late, n) => this.onLateness(late, n),
        onWakeup: (late) => this.metrics.wakeupSeries.observe(late),
        onError: (r, err) => fx.warn(`replica ${r}: ${(err as Error)?.stack ?? String(err)}`),
      },
      fx,
    );
    this.router = createRouter(config.routing, config.seed);
    // What the router reads of a replica: the engine's own counts where it has them.
    this.loads = this.driver.replicas.map((st, r) => {
      const e = st.engine as Partial<ReplicaLoad>;
      return {
        outstanding: () => this.driver.inFlight(r),
        waitingCount: () => e.waitingCount?.() ?? st.engine.stats().waiting,
        outstandingTokens: () => e.outstandingTokens?.() ?? this.driver.inFlight(r),
      };
    });
    if (config.lora) {
      const l = config.lora;
      for (let i = 0; i < l.totalLoras; i++) this.adapters.set(`lora-${i}`, { name: `lora-${i}`, path: `/adapters/lora-${i}`, modelId: i });
      const preloaded = Math.min(l.gpuLoras, l.totalLoras);
      this.swapInit = { swap_calls: preloaded > 0 ? 1 : 0, swap_count: preloaded };
    }
  }

  get replicas(): number {
    return this.driver.replicas.length;
  }

  /** Still in the slow-start window (health 503, generation 503). */
  loading(): boolean {
    return this.fx.nowMs() - this.startedMs < this.config.faults.slowStartMs;
  }

  nextId(): string {
    return `${(this.seq++).toString(16).padStart(8, '0')}${mix32(this.config.seed, this.seq).toString(16).padStart(8, '0')}`;
  }

  /** The replica a new request goes to, by the cluster's router policy. */
  route(promptTokens: number, maxTokens: number): number {
    return this.router.pick({ id: '', arrival: this.driver.simNow(), promptTokens, maxTokens }, this.loads);
  }

  /**
   * Counts the arrival against the crash fault and draws this request's faults. Throws the
   * HTTP 500 of the error fault for a request that fails before its first byte.
   */
  admitFaults(stream: boolean, maxTokens: number): StreamFaults {
    const f = this.config.faults;
    const k = this.arrivals++;
    if (f.crashAfter > 0 && this.arrivals > f.crashAfter) this.fx.crash(`crash after ${f.crashAfter} requests`);
    if (this.loading()) throw new HttpError(503, 'Loading model', 'ServiceUnavailableError');
    const out: StreamFaults = {};
    const u = (salt: number) => mix32(this.config.seed ^ salt, k) / 2 ** 32;
    if (f.errorRate > 0 && u(0xe770) < f.errorRate) {
      const midStream = stream && (f.errorMode === 'stream' || (f.errorMode === 'mixed' && u(0x3a3a) < 0.5));
      this.metrics.faults.inc({ kind: midStream ? 'stream_error' : 'http_error' });
      if (!midStream) throw new HttpError(500, 'Injected fault: internal server error', 'InternalServerError');
      out.errorAfter = Math.max(1, Math.floor(maxTokens / 2));
    }
    if (stream && f.stallRate > 0 && f.stallMs > 0 && u(0x57a1) < f.stallRate) {
      this.metrics.faults.inc({ kind: 'stall' });
      out.stallAfter = Math.max(1, Math.floor(maxTokens / 3));
      out.stallMs = f.stallMs;
    }
    return out;
  }

  /** Hands a parsed request to its replica's engine. */
  admit(gen: GenRequest, sink: GenerationSink): void {
    this.active.set(gen.id, { gen, sink });
    gen.arrival = this.driver.simNow();
    // A write to a socket the client already closed must not take the server down.
    sink.res.on('error', () => sink.cancel());
    sink.res.on('close', () => {
      if (!sink.done) {
        sink.cancel();
        this.abort(gen);
      }
    });
    try {
      this.submit(gen, sink);
    } catch (err) {
      this.active.delete(gen.id);
      throw err;
    }
  }

  private submit(gen: GenRequest, sink: GenerationSink): void {
    this.driver.submit(
      gen.replica,
      {
        id: gen.id,
        promptTokens: gen.promptTokens,
        maxTokens: gen.maxTokens,
        naturalTokens: gen.naturalTokens,
        ignoreEos: gen.ignoreEos,
        minTokens: gen.minTokens,
        adapter: gen.adapter,
        content: gen.prompt,
      },
      sink,
    );
  }

  stats(): EngineStats[] {
    return this.driver.replicas.map((r) => r.engine.stats());
  }

  // ---- SinkObserver: request-level metrics, in simulated seconds as vLLM measures them.

  scheduled(gen: GenRequest, t: number): void {
    this.metrics.replica[gen.replica]!.queue.observe(Math.max(0, t - gen.arrival));
    this.noteAdapterUse(gen, t);
  }

  firstToken(gen: GenRequest, t: number): void {
    this.metrics.replica[gen.replica]!.ttft.observe(Math.max(0, t - gen.arrival));
  }

  interToken(gen: GenRequest, gap: number, n: number): void {
    this.metrics.replica[gen.replica]!.itl.observe(gap / n, n);
  }

  finished(gen: GenRequest, reason: FinishReason, t: number, _tokens: number): void {
    const m = this.metrics.replica[gen.replica]!;
    m.success[reason].inc();
    m.e2e.observe(Math.max(0, t - gen.arrival));
    this.active.delete(gen.id);
  }

  abort(gen: GenRequest): void {
    if (!this.active.has(gen.id)) return;
    this.active.delete(gen.id);
    this.driver.abort(gen.replica, gen.id);
    this.metrics.replica[gen.replica]!.success.abort.inc();
  }

  private onLateness(late: number, n: number): void {
    this.metrics.latenessSeries.observe(late, n);
    this.metrics.sentSeries.inc(n);
    const w = this.window;
    w.add(late, n);
    if (w.total >= LATENESS_WINDOW) {
      // A live estimate for the warning only; reported figures come from the histogram.
      const p99ms = w.quantile(0.99) * 1000;
      w.reset();
      if (p99ms > this.config.latenessWarnMs && !this.warned) {
        this.warned = true;
        this.fx.warn(message.hostBehind(p99ms));
      } else if (p99ms <= this.config.latenessWarnMs) this.warned = false;
    }
  }

  /**
   * Swap accounting from the engine's LoRA slots, read when an adapter's request is scheduled:
   * the adapters swapped in over PCIe since the last look; those loaded for one step count as
   * one swap call.
   */
  private noteAdapterUse(gen: GenRequest, t: number): void {
    if (!gen.adapter || !this.config.lora) return;
    const lora = (this.driver.engine(gen.replica) as { lora?: { stats: { misses: number }; lastMissed: boolean } }).lora;
    if (!lora) return;
    // the engine calls back right after acquiring this request's adapter, so lastMissed is its own
    gen.adapterResident = !lora.lastMissed;
    const d = lora.stats.misses - (this.lastMisses[gen.replica] ?? 0);
    this.lastMisses[gen.replica] = lora.stats.misses;
    if (d <= 0) return;
    this.swapRuntime.swap_count += d;
    if (t !== this.lastSwapT) this.swapRuntime.swap_calls++;
    this.lastSwapT = t;
  }

  /**
   * `routed_experts` of a finished non-streaming request, as vLLM's --enable-return-routed-experts
   * returns it: base64 of a .npy array (tokens × MoE layers × top_k) of expert ids for every token
   * the forward passes routed (the prompt and every output token but the last); null on a dense
   * model; undefined (no field) when the option is off.
   */
  routedExperts(gen: GenRequest, completionTokens: number): string | null | undefined {
    if (!this.config.returnRoutedExperts) return undefined;
    const moe = (this.driver.engine(gen.replica) as { moe?: MoeRouter }).moe;
    if (!moe) return null;
    const tokens = Math.max(1, gen.promptTokens + completionTokens - 1);
    const ids = moe.expertIds(moe.profile(gen.prompt), tokens, `${gen.id}\u0000${gen.prompt}`);
    return encodeNpy(ids, [tokens, moe.config.layers, moe.config.topK]).toString('base64');
  }

  /** /swap_stats: the /generate model_ids resident in each replica's LoRA slots now. */
  residentAdapters(): number[][] {
    return this.driver.replicas.map((_, i) => {
      const lora = (this.driver.engine(i) as { lora?: { residentList(): string[] } }).lora;
      return (lora?.residentList() ?? []).map((n) => this.adapters.get(n)?.modelId ?? -1).filter((x) => x >= 0);
    });
  }

  /** Adapters with running requests and waiting requests, for vllm:lora_requests_info. */
  loraActivity(): { running: string[]; waiting: string[] } {
    const running = new Set<string>();
    const waiting = new Set<string>();
    for (const { gen, sink } of this.active.values()) {
      if (!gen.adapter) continue;
      (sink.scheduledT !== undefined ? running : waiting).add(gen.adapter);
    }
    return { running: [...running], waiting: [...waiting] };
  }

  async close(): Promise<void> {
    this.driver.close();
    for (const { sink } of this.active.values()) sink.cancel();
    this.active.clear();
    await this.gates.close();
  }
}
