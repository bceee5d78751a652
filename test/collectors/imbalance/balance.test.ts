// `imbalance balance` in front of N simulated servers (one GPU each, port 0): round-robin spreads
// evenly and tags every answer with x-gpu-id, /metrics?gpu_id=N counts what is in flight,
// least-outstanding avoids a busy backend, the generator records the proxy's GPU, and a dead
// backend is a 502, not a crash.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackends, startBalancer, type Balancer } from '../../../collectors/imbalance/balance.ts';
import { run as balanceCmd } from '../../../collectors/imbalance/cmd-balance.ts';
import { CliError } from '../../../core/errors.ts';
import { simConfig, startSimServer } from '../../../simulator/server/server.ts';

type Srv = Awaited<ReturnType<typeof startSimServer>>;
let backends: Srv[];
let model = '';

const chat = (base: string, words: number, maxTokens = 4) =>
  request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: Array(words).fill('word').join(' ') }], max_tokens: maxTokens, stream: true }),
  });

beforeAll(async () => {
  backends = await Promise.all([0, 1, 2].map(() => startSimServer(simConfig({ port: 0 }))));
  model = ((await (await request(`${backends[0]!.url}/v1/models`)).body.json()) as { data: { id: string }[] }).data[0]!.id;
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

describe('imbalance balance', () => {
  it('round-robin: every backend in turn, x-gpu-id on the answer, streams intact', async () => {
    const b = await startBalancer({ backends: backends.map((s) => s.url), routing: 'round-robin' });
    try {
      const gpus: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await chat(b.url, 5);
        const text = await r.body.text();
        expect(r.statusCode).toBe(200);
        expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
        gpus.push(String(r.headers['x-gpu-id']));
      }
      expect(gpus).toEqual(['0', '1', '2', '0', '1', '2']);
      expect(b.forwarded).toEqual([2, 2, 2]);
      expect(b.inFlight).toEqual([0, 0, 0]);
      // other paths go to the first backend as they are
      const models = (await (await request(`${b.url}/v1/models`)).body.json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBeTruthy();
    } finally {
      await b.close();
    }
  });

  it('/metrics?gpu_id=N counts requests in flight; least-outstanding sends new work past a busy backend', async () => {
    const b = await startBalancer({ backends: backends.map((s) => s.url), routing: 'least-outstanding' });
    try {
      // two long requests: they land on backends 0 and 1 and stay in flight
      const long = [chat(b.url, 5, 400), chat(b.url, 5, 400)];
      const heads = await Promise.all(long);
      const metric = async (g: number) => ((await (await request(`${b.url}/metrics?gpu_id=${g}`)).body.json()) as { concurrency: number }).concurrency;
      expect([await metric(0), await metric(1), await metric(2)]).toEqual([1, 1, 0]);
      const next = await chat(b.url, 5);
      expect(next.headers['x-gpu-id']).toBe('2');
      await next.body.text();
      const bad = await request(`${b.url}/metrics?gpu_id=7`);
      expect(bad.statusCode).toBe(400);
      expect(await bad.body.text()).toContain('[0, 2]');
      for (const h of heads) await h.body.text();
      expect([await metric(0), await metric(1), await metric(2)]).toEqual([0, 0, 0]);
    } finally {
      await b.close();
    }
  });

  it('a backend that does not answer gives the client a 502 naming it', async () => {
    const b = await startBalancer({ backends: ['http://127.0.0.1:9'], routing: 'round-robin' });
    try {
      const r = await chat(b.url, 3);
      expect(r.statusCode).toBe(502);
      expect(await r.body.text()).toMatch(/127\.0\.0\.1:9 \(GPU 0\): ECONNREFUSED/);
      expect(b.inFlight).toEqual([0]);
    } finally {
      await b.close();
    }
  });

  it('other requests reach the first backend with their body, and are not counted as GPU load', async () => {
    const http = await import('node:http');
    const echo = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${body}`));
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const b = await startBalancer({ backends: [`http://127.0.0.1:${(echo.address() as { port: number }).port}`], routing: 'round-robin' });
    try {
      const r = await request(`${b.url}/v1/load_lora_adapter`, { method: 'POST', body: '{"lora_name":"a"}', headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBe(201);
      expect(await r.body.text()).toBe('POST /v1/load_lora_adapter {"lora_name":"a"}');
      expect(r.headers['x-gpu-id']).toBeUndefined();
      expect(b.forwarded).toEqual([0]);
    } finally {
      await b.close();
      echo.close();
    }
  });

  it('bad flags are usage errors naming the value and the choices', async () => {
    expect(() => parseBackends([])).toThrow(/--backends: give at least one/);
    expect(() => parseBackends(['http://a:1', 'gpu1:8000'])).toThrow(/'gpu1:8000' \(item 2\)/);
    const err = await balanceCmd(['--backends', 'http://a:1', '--routing', 'random']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/--routing: .*power-of-two/);
  });
});

describe('the generator through the balancer', () => {
  let b: Balancer;
  beforeAll(async () => {
    b = await startBalancer({ backends: backends.map((s) => s.url), routing: 'power-of-two', seed: 1 });
  });
  afterAll(() => b.close());

  it('records the GPU the proxy picked, and reads concurrency from its /metrics', async () => {
    const { runImbalanceLoad } = await import('../../../collectors/imbalance/load.ts');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-balance-gen-'));
    const r = await runImbalanceLoad({
      mode: 'generate', endpoint: `${b.url}/v1/chat/completions`, metricsEndpoint: `${b.url}/metrics`, numGpus: 3, durationS: 0.8, maxConcurrency: 6,
      maxPrompt: 400, warmupLoops: 1, k: 2, promptsFile: path.join(dir, 'p.txt'), label: 'power-of-two', dataDir: dir, maxTokens: 4, scrapeIntervalMs: 100,
    }, { warn: () => {} });
    const reqs = fs.readFileSync(r.run.rawFile('requests'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { gpu: number; extra: { gpu_assigned: number; concurrency_source: string | null } });
    expect(reqs.length).toBeGreaterThan(6);
    expect(new Set(reqs.map((q) => q.gpu))).toEqual(new Set([0, 1, 2]));
    // power-of-two does not follow the client's round-robin: some requests land elsewhere
    expect(reqs.some((q) => q.gpu !== q.extra.gpu_assigned)).toBe(true);
    expect(reqs.filter((q) => q.extra.concurrency_source !== null).every((q) => q.extra.concurrency_source === 'metrics')).toBe(true);
    expect(r.summary.prompts_received).toBe(reqs.length);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
