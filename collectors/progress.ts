// The live progress line of a load run: on a terminal it redraws every second; on a pipe or
// in CI it prints a line every 10 s in the load tester's format. Its p90 is a Node estimate
// over recent requests, for display only; reported statistics come from SQL.
import { isInteractive } from '../core/output.ts';
import type { RequestRecord } from '../core/schema.ts';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Total run length for "Time Left" (s); else estimated from the request count. */
  durationS?: number;
  totalRequests?: number;
  activeUsers: () => number;
  interactive?: boolean;
  everyMs?: number;
  now?: () => number;
}

export interface ProgressStats {
  requests: number;
  errors: number;
  tokens: number;
  latenciesS: number[];
}

/** Formats the plain line: `[Progress @ 30s] Active Users: 20 | Requests: 145 | …`. */
export function progressLine(elapsedS: number, active: number, s: ProgressStats, timeLeftS: number | null): string {
  const rps = elapsedS > 0 ? s.requests / elapsedS : 0;
  const tps = elapsedS > 0 ? s.tokens / elapsedS : 0;
  const sorted = [...s.latenciesS].sort((a, b) => a - b);
  const p90 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * (sorted.length - 1) + 0.5))]! : 0;
  const err = s.requests ? (100 * s.errors) / s.requests : 0;
  const left = timeLeftS === null ? '?' : `${Math.max(0, Math.round(timeLeftS))}s`;
  return `[Progress @ ${Math.round(elapsedS)}s] Active Users: ${active} | Requests: ${s.requests} | RPS: ${rps.toFixed(1)} | TPS: ${tps.toFixed(1)} tok/s | P90 Latency: ${p90.toFixed(2)}s | Errors: ${err.toFixed(1)}% | Time Left: ${left}`;
}

export function startProgress(o: ProgressOptions) {
  const stream = o.stream ?? process.stderr;
  const tty = o.interactive ?? isInteractive(stream);
  const every = o.everyMs ?? (tty ? 1_000 : 10_000);
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const s: ProgressStats = { requests: 0, errors: 0, tokens: 0, latenciesS: [] };
  const WINDOW = 2_000;
  const render = () => {
    const el = (now() - t0) / 1000;
    const left = o.durationS !== undefined ? o.durationS - el : o.totalRequests && s.requests ? ((o.totalRequests - s.requests) * el) / s.requests : null;
    return progressLine(el, o.activeUsers(), s, left);
  };
  const timer = setInterval(() => {
    stream.write(tty ? `\r${render()}\x1b[K` : `${render()}\n`);
  }, every);
  timer.unref();
  return {
    stats: s,
    record(r: Pick<RequestRecord, 'status'> & Partial<RequestRecord>) {
      if (r.phase === 'warmup') return;
      s.requests++;
      if (r.status !== 'ok') s.errors++;
      s.tokens += r.output_tokens ?? 0;
      if (r.status === 'ok' && r.last_token_ns != null && r.sent_ns != null) {
        s.latenciesS.push((r.last_token_ns - r.sent_ns) / 1e9);
        if (s.latenciesS.length > WINDOW) s.latenciesS.splice(0, s.latenciesS.length - WINDOW);
      }
    },
    line: render,
    stop() {
      clearInterval(timer);
      if (tty) stream.write(`\r${render()}\x1b[K\n`);
    },
  };
}
