// The simulated server's /metrics: vLLM's V1 names, types, HELP texts, labels (engine,
// model_name) and buckets; llama.cpp's unlabelled `llamacpp:` set; and the server's own
// token lateness (sent − due), which says whether this host kept up with the model.
import type { EngineStats } from '../types.ts';
import { Registry, type Child, type Metric } from './prom.ts';

/** Per-replica handles on the hot series. */
export interface ReplicaSeries {
  ttft: Child;
  itl: Child;
  e2e: Child;
  queue: Child;
  iteration: Child;
  success: Record<'abort' | 'length' | 'stop', Child>;
}

// Buckets of vLLM v1/metrics/loggers.py.
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];
const ITERATION_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
export const LATENESS_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/**
 * Token lateness over a window, counted in LATENESS_BUCKETS (plus +Inf): constant work per
 * observation, for the live "host cannot keep up" warning. Reported figures come from the
 * exposed histogram, never from this.
 */
export class LatenessWindow {
  private readonly counts = new Float64Array(LATENESS_BUCKETS.length + 1);
  total = 0;

  add(lateSeconds: number, n: number): void {
    let i = 0;
    while (i < LATENESS_BUCKETS.length && lateSeconds > LATENESS_BUCKETS[i]!) i++;
    this.counts[i]! += n;
    this.total += n;
  }

  /** Quantile in seconds, linear inside its bucket as histogram_quantile; in +Inf, the last bound. */
  quantile(q: number): number {
    const rank = q * this.total;
    let below = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]!;
      if (c > 0 && below + c >= rank) {
        if (i === LATENESS_BUCKETS.length) return LATENESS_BUCKETS[i - 1]!;
        const lo = i === 0 ? 0 : LATENESS_BUCKETS[i - 1]!;
        return lo + ((LATENESS_BUCKETS[i]! - lo) * (rank - below)) / c;
      }
      below += c;
    }
    return 0;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}

export class ServerMetrics {
  readonly vllm = new Registry();
  readonly running: Metric;
  readonly waiting: Metric;
  readonly kvUsage: Metric;
  readonly preemptions: Metric;
  readonly promptTokens: Metric;
  readonly generationTokens: Metric;
  readonly success: Metric;
  readonly ttft: Metric;
  readonly itl: Metric;
  readonly e2e: Metric;
  readonly queue: Metric;
  readonly iterationTokens: Metric;
  readonly loraInfo: Metric | undefined;
  /** The server's own, in both exposition formats. */
  readonly own = new Registry();
  readonly lateness: Metric;
  readonly tokensSent: Metric;
  readonly faults: Metric;
  readonly replica: ReplicaSeries[] = [];
  readonly latenessSeries: Child;
  readonly sentSeries: Child;
  readonly wakeupSeries: Child;
  /** llama.cpp counters of prompt/predict seconds, kept from request timings. */
  promptSeconds = 0;
  predictedSeconds = 0;
  lastScrape = { promptTokens: 0, promptSeconds: 0, generated: 0, predictedSeconds: 0 };

  constructor(
    readonly modelName: string,
    readonly replicas: number,
    withLora: boolean,
  ) {
    const v = this.vllm;
    this.running = v.gauge('vllm:num_requests_running', 'Number of requests in model execution batches.');
    this.waiting = v.gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.');
    this.kvUsage = v.gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.');
    this.preemptions = v.counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.');
    this.promptTokens = v.counter('vllm:prompt_tokens', 'Number of prefill tokens processed.');
    this.generationTokens = v.counter('vllm:generation_tokens', 'Number of generation tokens processed.');
    this.success = v.counter('vllm:request_success', 'Count of successfully processed requests.');
    this.iterationTokens = v.histogram('vllm:iteration_tokens_total', 'Histogram of number of tokens per engine_step.', ITERATION_BUCKETS);
    this.ttft = v.histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    this.itl = v.histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS);
    this.e2e = v.histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', LATENCY_BUCKETS);
    this.queue = v.histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', LATENCY_BUCKETS);
    this.loraInfo = withLora ? v.gauge('vllm:lora_requests_info', 'Running stats on lora requests.') : undefined;
    for (let r = 0; r < replicas; r++) {
      const l = this.labels(r);
      for (const m of [this.running, this.waiting, this.kvUsage, this.preemptions, this.promptTokens, this.generationTokens, this.iterationTokens, this.ttft, this.itl, this.e2e, this.queue]) m.touch(l);
      this.replica.push({
        ttft: this.ttft.child(l),
        itl: this.itl.child(l),
        e2e: this.e2e.child(l),
        queue: this.queue.child(l),
        iteration: this.iterationTokens.child(l),
        success: {
          abort: this.success.child({ ...l, finished_reason: 'abort' }),
          length: this.success.child({ ...l, finished_reason: 'length' }),
          stop: this.success.child({ ...l, finished_reason: 'stop' }),
        },
      });
    }
    this.lateness = this.own.histogram('servelab:token_lateness_seconds', 'Seconds between when the serving model made a token due and when the server wrote it.', LATENESS_BUCKETS);
    this.tokensSent = this.own.counter('servelab:tokens_sent', 'Output tokens written to clients.');
    this.wakeupSeries = this.own
      .histogram('servelab:timer_lateness_seconds', "Seconds between a step's end in the serving model and the server's wake-up for it (host scheduling and the server's own event-loop work).", LATENESS_BUCKETS)
      .child({});
    this.faults = this.own.counter('servelab:injected_faults', 'Faults injected by the fault flags, by kind.');
    this.latenessSeries = this.lateness.child({});
    this.sentSeries = this.tokensSent.child({});
  }

  labels(replica: number): { engine: string; model_name: string } {
    return { engine: String(replica), model_name: this.modelName };
  }

  /** Copies the engines' gauges and cumulative counters in before a scrape. */
  refresh(stats: readonly EngineStats[]): void {
    stats.forEach((s, r) => {
      const l = this.labels(r);
      this.running.set(l, s.running);
      this.waiting.set(l, s.waiting);
      this.kvUsage.set(l, s.kvUsage);
      this.preemptions.set(l, s.preemptions);
      this.promptTokens.set(l, s.promptTokens);
      this.generationTokens.set(l, s.generationTokens);
    });
  }

  setLoraInfo(maxLoras: number, running: readonly string[], waiting: readonly string[], unixSeconds: number): void {
    if (!this.loraInfo) return;
    // One series per label combination, as vLLM leaves behind; readers take the newest value.
    this.loraInfo.set({ max_lora: String(maxLoras), running_lora_adapters: running.join(','), waiting_lora_adapters: waiting.join(',') }, unixSeconds);
    // Bounded, unlike vLLM's: keep the newest 64 combinations so /metrics cannot grow without end.
    while (this.loraInfo.series.size > 64) this.loraInfo.series.delete(this.loraInfo.series.keys().next().value!);
  }

  renderVllm(): string {
    return this.vllm.render() + this.own.render();
  }

  /** llama.cpp's /metrics (`--metrics`): no labels, integer-looking values, per-scrape averages. */
  renderLlama(stats: readonly EngineStats[], processing: number, deferred: number): string {
    const sum = (k: keyof EngineStats) => stats.reduce((a, s) => a + (s[k] as number), 0);
    const promptTokens = sum('promptTokens');
    const generated = sum('generationTokens');
    const steps = sum('steps');
    const last = this.lastScrape;
    const dPromptSec = this.promptSeconds - last.promptSeconds;
    const dPredSec = this.predictedSeconds - last.predictedSeconds;
    const promptRate = dPromptSec > 0 ? (promptTokens - last.promptTokens) / dPromptSec : 0;
    const predRate = dPredSec > 0 ? (generated - last.generated) / dPredSec : 0;
    // Every scrape resets the averaging bucket (metrics_reset_bucket), as llama.cpp does.
    this.lastScrape = { promptTokens, promptSeconds: this.promptSeconds, generated, predictedSeconds: this.predictedSeconds };
    const rows: [string, 'counter' | 'gauge', string, number][] = [
      ['llamacpp:prompt_tokens_total', 'counter', 'Number of prompt tokens processed.', promptTokens],
      ['llamacpp:prompt_seconds_total', 'counter', 'Prompt process time', this.promptSeconds],
      ['llamacpp:tokens_predicted_total', 'counter', 'Number of generation tokens processed.', generated],
      ['llamacpp:tokens_predicted_seconds_total', 'counter', 'Predict process time', this.predictedSeconds],
      ['llamacpp:n_decode_total', 'counter', 'Total number of llama_decode() calls', steps],
      ['llamacpp:n_busy_slots_per_decode', 'gauge', 'Average number of busy slots per llama_decode() call', steps > 0 ? generated / steps : 0],
      ['llamacpp:prompt_tokens_seconds', 'gauge', 'Average prompt throughput in tokens/s.', promptRate],
      ['llamacpp:predicted_tokens_seconds', 'gauge', 'Average generation throughput in tokens/s.', predRate],
      ['llamacpp:requests_processing', 'gauge', 'Number of requests processing.', processing],
      ['llamacpp:requests_deferred', 'gauge', 'Number of requests deferred.', deferred],
    ];
    const text = rows.map(([n, t, h, v]) => `# HELP ${n} ${h}\n# TYPE ${n} ${t}\n${n} ${cppNumber(v)}`).join('\n');
    return text + '\n' + this.own.render(cppNumber);
  }
}

/** std::ostream's default float output (6 significant digits), as llama.cpp prints. */
export function cppNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const p = Number(v.toPrecision(6));
  if (Math.abs(p) >= 1e6 || (Math.abs(p) < 1e-4 && p !== 0)) {
    const [m, e] = p.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(p);
}
