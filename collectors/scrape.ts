// Server metrics during a run, as `scrapes` records: Prometheus text (vLLM, llama.cpp) parsed
// here, with server-wide sums over vLLM's data-parallel `engine` label and both names of the
// KV-cache gauge; and the simulated server's per-GPU JSON (`/metrics?gpu_id=N`).
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../core/clock.ts';
import type { RunHandle } from '../core/run.ts';

export interface Sample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Both generations of vLLM's KV-cache usage gauge (0–1); the old one until 0.8. */
export const KV_CACHE_METRICS = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'] as const;

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;
  let m: RegExpExecArray | null;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    m = re.exec(text);
    if (!m) throw new Error(`${where}: bad label set {${text}}`);
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    i = re.lastIndex;
  }
  return labels;
}

function parseValue(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/** Parses the Prometheus text exposition format (comments and TYPE/HELP lines skipped). */
export function parsePrometheus(text: string, source = 'metrics'): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source}:${n + 1}`;
    const brace = line.indexOf('{');
    let metric: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace >= 0 && brace < (line.indexOf(' ') >>> 0)) {
      const close = line.lastIndexOf('}');
      if (close < brace) throw new Error(`${where}: unclosed label set`);
      metric = line.slice(0, brace);
      labels = parseLabels(line.slice(brace + 1, close), where);
      rest = line.slice(close + 1).trim();
    } else {
      const sp = line.indexOf(' ');
      metric = line.slice(0, sp);
      rest = line.slice(sp + 1).trim();
    }
    const value = parseValue(rest.split(/\s+/)[0]!);
    if (Number.isNaN(value) && rest.split(/\s+/)[0] !== 'NaN') throw new Error(`${where}: bad value '${rest}'`);
    out.push({ metric, labels, value });
  }
  return out;
}

/** Adds one server-wide sample per (metric, other labels) summed over the `engine` label. */
export function withEngineSums(samples: Sample[]): Sample[] {
  const sums = new Map<string, Sample>();
  for (const s of samples) {
    if (!('engine' in s.labels)) continue;
    const { engine: _e, ...rest } = s.labels;
    const labels = { ...rest, engine: 'sum' };
    const key = `${s.metric}\u0000${JSON.stringify(Object.entries(labels).sort())}`;
    const cur = sums.get(key);
    if (cur) cur.value += s.value;
    else sums.set(key, { metric: s.metric, labels, value: s.value });
  }
  const engines = new Set(samples.filter((s) => 'engine' in s.labels).map((s) => s.labels.engine));
  return engines.size > 1 ? [...samples, ...sums.values()] : samples;
}

export interface ScrapeTarget {
  /** Name in records (default the URL). */
  name?: string;
  url: string;
  kind: 'prometheus' | 'gpu-json';
  /** Keep only these metric names (prefix match); default all. */
  metrics?: string[];
}

export interface ScrapeEffects {
  clock: Clock;
  dispatcher?: Dispatcher;
}

/** Fetches one target and appends its samples; a failure becomes a warning, not a crash. */
export async function scrapeOnce(run: RunHandle, t: ScrapeTarget, fx: ScrapeEffects): Promise<number> {
  const tNs = fx.clock.nowNs();
  const res = await request(t.url, { dispatcher: fx.dispatcher, headersTimeout: 5_000, bodyTimeout: 5_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${t.url}: HTTP ${res.statusCode}`);
  let samples: Sample[];
  if (t.kind === 'gpu-json') {
    const gpu = new URL(t.url).searchParams.get('gpu_id');
    const body = JSON.parse(text) as Record<string, unknown>;
    samples = Object.entries(body)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]): Sample => ({ metric: k, labels: gpu === null ? {} : { gpu_id: gpu }, value: v as number }));
  } else {
    samples = withEngineSums(parsePrometheus(text, t.url));
  }
  if (t.metrics?.length) samples = samples.filter((s) => t.metrics!.some((m) => s.metric.startsWith(m)));
  for (const s of samples) {
    run.append('scrapes', { t_ns: tNs, target: t.name ?? t.url, metric: s.metric, labels: Object.keys(s.labels).length ? s.labels : null, value: s.value });
  }
  return samples.length;
}

/** Scrapes every target each `intervalMs` until stop() (which takes a last sample). */
export function startScraper(run: RunHandle, targets: ScrapeTarget[], fx: ScrapeEffects & { intervalMs?: number; warn?: (m: string) => void }) {
  const warned = new Set<string>();
  const tick = () =>
    Promise.all(
      targets.map((t) =>
        scrapeOnce(run, t, fx).catch((e: Error) => {
          if (!warned.has(t.url)) fx.warn?.(`scrape ${t.url}: ${e.message}`);
          warned.add(t.url);
        }),
      ),
    );
  let running = tick();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, fx.intervalMs ?? 1_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
