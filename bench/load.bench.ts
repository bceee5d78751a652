// Load-engine benchmark: the client's own overhead against a minimal SSE server running in
// another process (test/helpers/sse-server.ts, 16 chunks a response). Prints figures only:
// open-loop rate accuracy and send lag, max streamed req/s, client−server TTFT, and
// non-streaming req/s beside autocannon's on the same endpoint. Every cell also prints the
// load average, both processes' CPU per request and the client's GC pauses, so host contention
// can be told apart from client cost (CPU µs/request barely moves with other load).
// Beside the two latency tails it prints what this host allows: the pacer alone (no request
// sent) on the same schedule, and a bare undici reader that only stamps its first read.
// `npx tsx bench/load.bench.ts`; LOAD_BENCH_CELLS=open,max,ttft,plain picks cells.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PerformanceObserver } from 'node:perf_hooks';
import { openCatalog, queryRows } from '../analysis/catalog.ts';
import type { Clock } from '../core/clock.ts';
import { createRun } from '../core/run.ts';
import { runLoad } from '../collectors/bench.ts';
import { type Endpoint, makeAgent, sendRequest } from '../collectors/client.ts';
import { makePacer } from '../collectors/pacer.ts';
import { seededRng } from '../collectors/rng.ts';
import { buildSchedule } from '../collectors/schedule.ts';
import { makeItem } from '../collectors/workloads/common.ts';
import type { Dispatcher } from 'undici';
import { spawnListening } from '../test/helpers/spawn-server.ts';

const SECONDS = Number(process.env.LOAD_BENCH_SECONDS ?? 5);
// open-loop cells start after this many closed-loop requests (connections open, code compiled):
// without them the first ~100 ms (new connections, unoptimized code) dominate the lag tail
const WARMUPS = Number(process.env.LOAD_BENCH_WARMUPS ?? 256);
// a comma list of the cells to run (open, max, ttft, plain); all by default
const CELLS = new Set((process.env.LOAD_BENCH_CELLS ?? 'open,max,ttft,plain').split(','));
const helper = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../test/helpers/sse-server.ts');
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-loadbench-'));
// run-relative ns on CLOCK_MONOTONIC, so host-ms = (origin + t) / 1e6 matches the server's stamps.
// Read through performance.now(), which counts on the same CLOCK_MONOTONIC from a fixed point (as
// the CLI's monotonicClock does): process.hrtime.bigint() made two BigInts per read, the largest
// share of this process's allocation at 1,000 req/s (the pacer reads the clock every turn)
const h0 = process.hrtime.bigint();
const perfOrigin = performance.now();
const origin = (h0 + process.hrtime.bigint()) / 2n;
const clock: Clock = { nowNs: () => Math.round((performance.now() - perfOrigin) * 1e6), unixMs: () => Date.now() };
const hostMs = (tNs: number) => Number(origin) / 1e6 + tNs / 1e6;

// the instant server needs no stamps (they cost it a clock read and bigger frames per event)
const server = await spawnListening(process.execPath, ['--import', 'tsx', helper, '--port', '0', '--chunks', '16']);
const paced = await spawnListening(process.execPath, ['--import', 'tsx', helper, '--port', '0', '--chunks', '16', '--delay-ms', '50', '--stamp']);
const ep = (url: string, stream = true): Endpoint => ({ name: 'bench', baseUrl: url, path: '/v1/completions', protocol: 'openai-completions', model: 'm', stream });
const items = [makeItem('benchmark prompt', { maxTokens: 16, countTokens: () => 2 })];
const fmt = (x: unknown, d = 3) => (typeof x === 'number' ? x.toFixed(d) : String(x));

async function sql(runDir: string, q: string) {
  const cat = await openCatalog({ runDirs: [runDir] });
  try {
    return (await queryRows(cat.conn, q))[0]!;
  } finally {
    cat.close();
  }
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

// this process's GC pauses (ms), so a lag tail can be set beside the collector's pauses
const gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push(e.duration);
}).observe({ entryTypes: ['gc'] });

/** CPU µs (user+sys) a child process has used so far, from /proc (Linux); null elsewhere. */
function childCpuUs(pid: number | undefined): number | null {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/**
 * Client CPU time (user+sys) per request, the server process's beside it, and the load
 * average: CPU per request is a figure that other load on the host barely moves.
 */
function cpuMeter(serverPid = server.child.pid) {
  const c0 = process.cpuUsage();
  const g0 = gcPauses.length;
  const s0 = childCpuUs(serverPid);
  const load0 = load();
  return (requests: number) => {
    const c = process.cpuUsage(c0);
    const us = (c.user + c.system) / Math.max(1, requests);
    const s1 = childCpuUs(serverPid);
    const srv = s0 !== null && s1 !== null ? `, server CPU ${((s1 - s0) / Math.max(1, requests)).toFixed(0)} µs/request` : '';
    const gc = gcPauses.slice(g0);
    const gcText = `client GC ${gc.length} pauses, ${gc.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(0, ...gc).toFixed(1)} ms`;
    return `client CPU ${us.toFixed(0)} µs/request (≈ ${(1e6 / us).toFixed(0)} req/s per free core)${srv}, ${gcText}, load average ${load0} → ${load()}`;
  };
}

async function openLoop(rate: number) {
  const run = createRun({ experiment: 'loadbench', runId: `open-${rate}`, dataDir: data });
  const agent = makeAgent();
  const cpu = cpuMeter();
  const out = await runLoad(run, { endpoints: [ep(server.url)], items, requestRate: rate, durationS: SECONDS, warmups: WARMUPS, seed: 1, timeoutMs: 10_000 }, { clock, dispatcher: agent });
  const cpuText = cpu(out.records); // before the DuckDB query, which has threads of its own
  await agent.close();
  run.finish('complete');
  const r = await sql(run.dir, `select count(*) n, count(*) filter (status = 'ok') ok,
      (count(*) - 1) / ((max(scheduled_ns) - min(scheduled_ns)) / 1e9) sched_rate,
      (count(*) - 1) / ((max(sent_ns) - min(sent_ns)) / 1e9) sent_rate,
      quantile_cont((sent_ns - scheduled_ns) / 1e6, 0.5) lag50, quantile_cont((sent_ns - scheduled_ns) / 1e6, 0.99) lag99,
      max((sent_ns - scheduled_ns) / 1e6) lagmax,
      string_agg(DISTINCT CASE WHEN status <> 'ok' THEN status || ': ' || left(error, 60) END, '; ') errs from requests where phase = 'main'`);
  const err = (100 * ((r.sent_rate as number) - rate)) / rate;
  console.log(
    `open loop Poisson ${rate} req/s for ${SECONDS} s after ${WARMUPS} warm-up requests: ${r.n} sent, ${r.ok} ok | schedule ${fmt(r.sched_rate, 1)} req/s, achieved send rate ${fmt(r.sent_rate, 1)} req/s (${err >= 0 ? '+' : ''}${err.toFixed(2)}% vs target, ${fmt((100 * ((r.sent_rate as number) - (r.sched_rate as number))) / (r.sched_rate as number), 2)}% vs schedule) | send lag p50 ${fmt(r.lag50)} ms, p99 ${fmt(r.lag99)} ms, max ${fmt(r.lagmax)} ms | ${cpuText}${r.errs ? ` | errors: ${r.errs}` : ''}`,
  );
}

/** p50, p99 and max of some samples (ms), computed by DuckDB like every other figure here. */
async function quantiles(name: string, samples: number[]): Promise<{ n: number; p50: number; p99: number; mx: number }> {
  const file = path.join(data, `${name}.json`);
  fs.writeFileSync(file, samples.map((d) => JSON.stringify({ d })).join('\n'));
  const cat = await openCatalog({ runDirs: [] });
  try {
    const r = (await queryRows(cat.conn, `select count(*)::INTEGER n, quantile_cont(d, 0.5) p50, quantile_cont(d, 0.99) p99, max(d) mx from read_json('${file}', format='newline_delimited')`))[0]!;
    return r as { n: number; p50: number; p99: number; mx: number };
  } finally {
    cat.close();
  }
}

/**
 * The send-lag floor of this host: the same pacer on the same kind of Poisson schedule, with
 * nothing sent at each wake-up (no request, no response to read, no record).
 */
async function pacerFloor(rate: number) {
  const schedule = buildSchedule({ rate, burstiness: 1, durationS: SECONDS }, seededRng(1));
  const pacer = makePacer(clock);
  const lags: number[] = [];
  const t0 = clock.nowNs() + 10e6;
  for (let i = 0; i < schedule.length; i++) lags.push((await pacer.until(t0 + schedule[i]!)) / 1e6);
  const r = await quantiles(`pacer-${rate}`, lags);
  console.log(`  what this host allows: the pacer alone at ${rate} req/s (nothing sent): lag p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.mx)} ms over ${r.n} wake-ups`);
}

/**
 * The TTFT floor of this host: 500 staggered streams read by a bare undici dispatch handler
 * that stamps its first body read, takes the server stamp from it with a regular expression,
 * and discards the rest (no SSE framing, no JSON, no record).
 */
async function bareTtft(streams: number) {
  const agent = makeAgent();
  const cpu = cpuMeter(paced.child.pid);
  let n = 0;
  const url = new URL(paced.url);
  const body = JSON.stringify({ model: 'm', prompt: 'x', max_tokens: 16, stream: true });
  const deltas: number[] = [];
  const end = clock.nowNs() + SECONDS * 1e9;
  const one = () =>
    new Promise<number | null>((resolve) => {
      let firstNs = 0;
      let stamp: number | null = null;
      const handler: Dispatcher.DispatchHandler = {
        onConnect() {},
        onHeaders: () => true,
        onData(chunk: Buffer) {
          if (stamp !== null) return true;
          const now = clock.nowNs();
          const m = /"t":([0-9.e+-]+)/.exec(chunk.toString('latin1'));
          if (m) {
            firstNs = now;
            stamp = Number(m[1]);
          }
          return true;
        },
        onComplete: () => resolve(stamp === null ? null : hostMs(firstNs) - stamp),
        onError: () => resolve(null),
      };
      agent.dispatch({ origin: url.origin, path: '/v1/completions', method: 'POST', headers: ['content-type', 'application/json'], body }, handler);
    });
  const user = async (_: unknown, i: number) => {
    await new Promise((r) => setTimeout(r, (i * 850) / streams));
    let first = true;
    while (clock.nowNs() < end) {
      const d = await one();
      n++;
      if (!first && d !== null) deltas.push(d);
      first = false;
    }
  };
  await Promise.all(Array.from({ length: streams }, user));
  const cpuText = cpu(n);
  await agent.close();
  const r = await quantiles('bare-ttft', deltas);
  console.log(`  what this host allows: a bare undici reader (first read stamped, nothing parsed, no record), same ${streams} staggered streams: p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.mx)} ms over ${r.n} requests | ${cpuText}`);
}

async function maxStreamed(users: number, stream = true, label = 'streamed') {
  const run = createRun({ experiment: 'loadbench', runId: `max-${label}-${users}`, dataDir: data });
  const agent = makeAgent();
  const cpu = cpuMeter();
  const out = await runLoad(run, { endpoints: [ep(server.url, stream)], items, closed: { users }, durationS: SECONDS, stream, timeoutMs: 30_000 }, { clock, dispatcher: agent });
  const cpuText = cpu(out.records);
  await agent.close();
  run.finish('complete');
  const r = await sql(run.dir, `select count(*) filter (status = 'ok') ok, count(*) filter (status <> 'ok') bad,
      count(*) filter (status = 'ok') / ((max(done_ns) - min(sent_ns)) / 1e9) rps,
      quantile_cont((done_ns - sent_ns) / 1e6, 0.5) e2e50 from requests`);
  console.log(`closed loop ${users} users, ${label}: ${r.ok} ok, ${r.bad} failed, ${fmt(r.rps, 0)} req/s (every request a full ${stream ? '16-chunk SSE stream' : 'JSON body'}, record written), e2e p50 ${fmt(r.e2e50)} ms | ${cpuText}`);
  return r.rps as number;
}

/**
 * Client TTFT minus the server's stamp on the first token event. Staggered: stream i starts at
 * i/streams of one stream's length (~0.85 s), so the streams run out of phase, as independent
 * users do; each stream's first request (which opens its connection) is left out. Not
 * staggered: all start at once and stay in lockstep, so 500 first tokens arrive together and
 * the last waits for the other 499 to be read (a burst, not a steady-state overhead).
 */
async function ttftDelta(streams: number, stagger: boolean) {
  const agent = makeAgent();
  const cpu = cpuMeter(paced.child.pid);
  const deltas: number[] = [];
  const target = ep(paced.url); // one endpoint object: the client works out its URL once per endpoint
  const end = clock.nowNs() + SECONDS * 1e9;
  let n = 0;
  const user = async (_: unknown, i: number) => {
    if (stagger) await new Promise((r) => setTimeout(r, (i * 850) / streams));
    let first = stagger;
    while (clock.nowNs() < end) {
      let stamp: number | null = null;
      const { record } = await sendRequest(target, { prompt: 'x', stream: true, maxTokens: 16 }, {}, {
        clock, dispatcher: agent, requestId: String(n++), timeoutMs: 30_000,
        // read until the stamp is found, then no more events of this request are handed over
        onEvent: (data) => {
          const ev = JSON.parse(data) as { t?: unknown };
          if (typeof ev.t !== 'number') return true;
          stamp = ev.t;
          return false;
        },
      });
      if (!first && record.status === 'ok' && stamp !== null && record.first_token_ns != null) deltas.push(hostMs(record.first_token_ns) - stamp);
      first = false;
    }
  };
  await Promise.all(Array.from({ length: streams }, user));
  const cpuText = cpu(n);
  await agent.close();
  // figures via DuckDB like every other statistic
  const r = await quantiles('ttft', deltas);
  const how = stagger ? 'staggered starts, first request per stream left out' : 'all started at once (lockstep bursts)';
  console.log(`client TTFT − server-stamped send time, ${streams} concurrent streams (16 chunks × 50 ms), ${how}: ${r.n} requests | p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.mx)} ms | ${cpuText}`);
}

async function autocannonRps(connections: number): Promise<number> {
  const autocannon = createRequire(import.meta.url)('autocannon') as (o: object) => Promise<{ requests: { average: number }; errors: number; non2xx: number }>;
  const body = JSON.stringify({ model: 'm', prompt: 'benchmark prompt', max_tokens: 16, stream: false });
  const cpu = cpuMeter();
  const r = await autocannon({ url: `${server.url}/v1/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections, duration: SECONDS });
  console.log(`autocannon ${connections} connections, same endpoint (non-streaming): ${fmt(r.requests.average, 0)} req/s, errors ${r.errors}, non-2xx ${r.non2xx} | ${cpu(r.requests.average * SECONDS)}`);
  return r.requests.average;
}

try {
  console.log(`server: ${server.url} (another process); ${os.cpus().length} CPUs, load average ${load()} (other work on this host shares them); ${SECONDS} s per cell`);
  if (CELLS.has('open')) {
    await openLoop(1000);
    await pacerFloor(1000);
    await openLoop(3000);
  }
  if (CELLS.has('max')) {
    const best = Math.max(await maxStreamed(64), await maxStreamed(256));
    console.log(`most streamed requests/s sustained by one client process: ${best.toFixed(0)} (target ≥ 5,000)`);
  }
  if (CELLS.has('ttft')) {
    await ttftDelta(500, true);
    await bareTtft(500);
    await ttftDelta(500, false);
  }
  if (CELLS.has('plain')) {
    const ours = await maxStreamed(64, false, 'non-streaming');
    const theirs = await autocannonRps(64);
    console.log(`non-streaming: servelab ${ours.toFixed(0)} req/s vs autocannon ${theirs.toFixed(0)} req/s → ratio ${(ours / theirs).toFixed(2)}`);
  }
  console.log(`load average at the end: ${load()}`);
} finally {
  await Promise.all([server.kill(), paced.kill()]);
  fs.rmSync(data, { recursive: true, force: true });
}
