import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, queryRows } from '../../analysis/catalog.ts';
import { createRun } from '../../core/run.ts';
import { monotonicClock } from '../../core/clock.ts';
import { makeAgent, type Endpoint } from '../../collectors/client.ts';
import { LoadEngine } from '../../collectors/engine.ts';
import { finishRun, runLoad } from '../../collectors/bench.ts';
import { makeItem } from '../../collectors/workloads/common.ts';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

let srv: SseServer;
let data: string;
const agent = makeAgent();
beforeAll(async () => {
  srv = await startSseServer({ chunks: 4, delayMs: 10 });
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-engine-'));
});
afterAll(async () => {
  await srv.close();
  await agent.close();
  fs.rmSync(data, { recursive: true, force: true });
});

const ep = (name = 'e', weight = 1): Endpoint => ({ name, baseUrl: srv.url, path: '/v1/completions', protocol: 'openai-completions', model: 'm', weight });
const items = (prompt = 'hello', n = 1) => Array.from({ length: n }, () => makeItem(prompt, { maxTokens: 4 }));

async function rows(dir: string, sql: string) {
  const cat = await openCatalog({ runDirs: [dir] });
  try {
    return await queryRows(cat.conn, sql);
  } finally {
    cat.close();
  }
}

describe('load engine', () => {
  it('a concurrency cap on an open loop records client queue time (sent − scheduled)', async () => {
    const run = createRun({ experiment: 't', runId: 'cap', dataDir: data });
    const out = await runLoad(run, { endpoints: [ep()], items: items(), numPrompts: 6, requestRate: Infinity, maxConcurrency: 2, warmups: 2 }, { dispatcher: agent });
    run.finish('complete');
    expect(out.records).toBe(8);
    const r = await rows(run.dir, `select phase, count(*)::INT n, min(sent_ns - scheduled_ns) qmin, max(sent_ns - scheduled_ns) qmax,
      count(*) filter (status = 'ok')::INT ok from requests group by phase order by phase`);
    expect(r.map((x) => [x.phase, x.n, x.ok])).toEqual([['main', 6, 6], ['warmup', 2, 2]]);
    // six at t=0 through two slots: the last pair waits for two responses (≥ 2 × 4 chunks × 10 ms)
    expect(r[0]!.qmax as number).toBeGreaterThan(50e6);
    expect(r[0]!.qmin as number).toBeLessThan(20e6);
    // never more than two in flight
    const c = await rows(run.dir, `with e as (select sent_ns t, 1 d from requests where phase='main' union all select done_ns, -1 from requests where phase='main')
      select max(n)::INT m from (select sum(d) over (order by t, d rows unbounded preceding) n from e)`);
    expect(c[0]!.m).toBe(2);
  });

  it('a stop drains, cancels what is left, and every request has a readable record', async () => {
    const run = createRun({ experiment: 't', runId: 'abort', dataDir: data });
    let engine: LoadEngine | undefined;
    const p = runLoad(
      run,
      { endpoints: [ep()], items: [...items('mode:hang', 3), ...items('hi', 3)], numPrompts: 12, requestRate: Infinity, maxConcurrency: 4, graceMs: 100, timeoutMs: 30_000 },
      { dispatcher: agent, onEngine: (e) => (engine = e) },
    );
    setTimeout(() => engine!.stop(), 150);
    const out = await p;
    expect(out.stopped).toBe(true);
    finishRun(run, out);
    const manifest = JSON.parse(fs.readFileSync(path.join(run.dir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('incomplete');
    const r = await rows(run.dir, 'select status, count(*)::INT n from requests group by 1 order by 1');
    const by = Object.fromEntries(r.map((x) => [x.status, x.n]));
    expect(by.cancelled).toBeGreaterThanOrEqual(3);
    expect((by.cancelled ?? 0) + (by.ok ?? 0)).toBe(12);
    const queued = await rows(run.dir, "select count(*)::INT n from requests where status = 'cancelled' and sent_ns is null and scheduled_ns is not null");
    expect(queued[0]!.n).toBeGreaterThan(0);
  });

  it('closed loop: N users, duration bound; weighted endpoints by seed', async () => {
    const run = createRun({ experiment: 't', runId: 'closed', dataDir: data });
    await runLoad(run, { endpoints: [ep('a', 0.8), ep('b', 0.2)], items: items(), closed: { users: 3 }, durationS: 0.4, seed: 1 }, { dispatcher: agent, clock: monotonicClock() });
    run.finish('complete');
    const r = await rows(run.dir, "select endpoint, count(*)::INT n from requests group by 1 order by 1");
    const total = r.reduce((s, x) => s + (x.n as number), 0);
    expect(total).toBeGreaterThan(6);
    expect(r[0]!.endpoint).toBe('a');
    expect(r[0]!.n as number).toBeGreaterThan(total / 2);
  });

  it('two shards load one run: separate raw files, distinct ids, one view', async () => {
    const r0 = createRun({ experiment: 't', runId: 'sharded', dataDir: data, shard: 0 });
    const r1 = createRun({ experiment: 't', runId: 'sharded', dataDir: data, shard: 1, resume: true });
    const opts = { endpoints: [ep()], items: items(), numPrompts: 5, requestRate: 200, seed: 4 };
    const [o0, o1] = await Promise.all([runLoad(r0, opts, { dispatcher: agent }), runLoad(r1, opts, { dispatcher: agent })]);
    finishRun(r1, o1);
    finishRun(r0, o0);
    expect(fs.existsSync(r1.rawFile('requests'))).toBe(true);
    expect(r1.rawFile('requests')).not.toBe(r0.rawFile('requests'));
    const r = await rows(r0.dir, 'select shard, count(distinct request_id)::INT n, min(scheduled_ns) s0, max(scheduled_ns) s1 from requests group by 1 order by 1');
    expect(r.map((x) => [x.shard, x.n])).toEqual([[0, 5], [1, 5]]);
    expect(r[0]!.s1).not.toBe(r[1]!.s1); // different arrival draws per shard
  });
});

