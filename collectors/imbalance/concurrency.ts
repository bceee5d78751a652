// Where the generator reads a GPU's concurrency: the metrics endpoint (GET URL?gpu_id=N →
// {"concurrency": n}) when given, else the client's own in-flight count for that GPU. A lookup
// that fails falls back to the own count, warns once and is counted for the summary.
import { request, type Dispatcher } from 'undici';
import { message } from '../../core/messages.ts';

export type ConcurrencySource = 'metrics' | 'client' | 'fallback';

export interface ConcurrencyReading {
  value: number;
  source: ConcurrencySource;
}

export interface ConcurrencyOptions {
  numGpus: number;
  metricsEndpoint?: string | null;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  warn?: (m: string) => void;
}

/** The URL of GPU `gpu`'s concurrency: the endpoint with gpu_id set (other query fields kept). */
export function gpuMetricsUrl(endpoint: string, gpu: number): string {
  const u = new URL(endpoint);
  u.searchParams.set('gpu_id', String(gpu));
  return u.toString();
}

export class ConcurrencyTracker {
  /** This client's requests in flight per assigned GPU. */
  readonly inFlight: number[];
  failures = 0;
  lookups = 0;
  private warned = false;

  constructor(private readonly o: ConcurrencyOptions) {
    this.inFlight = new Array<number>(o.numGpus).fill(0);
    if (o.metricsEndpoint) {
      try {
        gpuMetricsUrl(o.metricsEndpoint, 0);
      } catch {
        throw new Error(`--metrics-endpoint '${o.metricsEndpoint}': not a URL (e.g. http://127.0.0.1:8000/metrics)`);
      }
    }
  }

  started(gpu: number): void {
    this.inFlight[gpu]!++;
  }

  finished(gpu: number): void {
    this.inFlight[gpu] = Math.max(0, this.inFlight[gpu]! - 1);
  }

  /** The concurrency of `gpu` now, and where it came from. */
  async read(gpu: number): Promise<ConcurrencyReading> {
    const url = this.o.metricsEndpoint;
    if (!url) return { value: this.inFlight[gpu]!, source: 'client' };
    this.lookups++;
    try {
      return { value: await fetchConcurrency(gpuMetricsUrl(url, gpu), this.o.dispatcher, this.o.timeoutMs ?? 2_000), source: 'metrics' };
    } catch (e) {
      this.failures++;
      if (!this.warned) {
        this.warned = true;
        this.o.warn?.(message.imbalanceMetricsFallback(url, (e as Error).message));
      }
      return { value: this.inFlight[gpu]!, source: 'fallback' };
    }
  }
}

/** GET one GPU's concurrency; throws a readable reason on anything but 200 {"concurrency": n ≥ 0}. */
export async function fetchConcurrency(url: string, dispatcher?: Dispatcher, timeoutMs = 2_000): Promise<number> {
  let status: number;
  let text: string;
  try {
    const res = await request(url, { dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new Error(`no answer (${err.code ?? err.message})`);
  }
  if (status !== 200) throw new Error(`HTTP ${status} (${text.slice(0, 120).trim()})`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`answered something other than JSON: ${JSON.stringify(text.slice(0, 80))} (expected {"concurrency": n})`);
  }
  const c = (body as { concurrency?: unknown } | null)?.concurrency;
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) throw new Error(`answered ${text.slice(0, 80)} (expected {"concurrency": n} with n ≥ 0)`);
  return c;
}
