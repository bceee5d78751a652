// `servelab loadtest` end to end against the built-in simulated server: the two old example
// configs unchanged (short durations by flag), the test ending at duration_seconds plus the
// grace period, a real Pushgateway round trip, SIGTERM drain, and --workers shards.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = path.resolve('bin/servelab.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Done {
  code: number;
  stdout: string;
  stderr: string;
  wallS: number;
}

function servelab(args: string[], onStart?: (c: ChildProcess) => void): Promise<Done> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  onStart?.(child);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, wallS: (performance.now() - t0) / 1000 })));
}

const common = (name: string) => ['--data', path.join(tmp, name), '--results', path.join(tmp, name, 'results')];
const num = (text: string, label: string) => Number(new RegExp(`^${label}: ([\\d.]+)`, 'm').exec(text)?.[1]);
const resultsOf = (name: string) => {
  const dir = path.join(tmp, name, 'results');
  const [f] = fs.readdirSync(dir);
  expect(f).toMatch(/^test_run_\d{8}_\d{6}\.json$/);
  return JSON.parse(fs.readFileSync(path.join(dir, f!), 'utf8'));
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('servelab loadtest', () => {
  it('workload.yaml unchanged: the old summary, analysis and results JSON; the test ends at its duration plus the grace', async () => {
    const r = await servelab(['loadtest', '--config', 'data/configs/workload.yaml', '--sim', 'llama-cpp', '--duration', '3', '--users', '4', '--ramp-up', '1', '--grace', '1', ...common('one')]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ['=== Test Summary ===', '=== Latency (s) ===', '=== TTFT (s) ===', '=== Automatic Analysis ===']) expect(r.stdout).toContain(h);
    expect(r.stdout).not.toContain('Per-Endpoint Breakdown');
    expect(r.stdout).toMatch(/^PASS: Error rate is acceptable \(0\.0%\)$/m);
    expect(r.stdout).toMatch(/^(PASS|WARNING): TTFT is /m);
    const total = num(r.stdout, 'Total Requests');
    expect(total).toBeGreaterThan(0);
    expect(num(r.stdout, 'Successful') + num(r.stdout, 'Failed')).toBe(total);
    // the duration says what ran: 3 s of load, then at most 1 s for requests in flight
    const dur = num(r.stdout, 'Duration');
    expect(dur).toBeGreaterThan(2.5);
    expect(dur).toBeLessThanOrEqual(4.3);
    const res = resultsOf('one');
    expect(res.config.workload).toEqual({ users: 4, duration_seconds: 3, ramp_up_seconds: 1, seed: 42 });
    expect(res.summary).toBe(r.stdout.trimStart());
    expect(res.details).toHaveLength(total);
    expect(Object.keys(res.details[0])).toEqual(['request_id', 'endpoint', 'start_ts', 'end_ts', 'ttft', 'latency', 'output_tokens', 'tps', 'error']);
    const ok = res.details.find((d: { error: unknown }) => d.error === null);
    expect(ok.end_ts - ok.start_ts).toBeCloseTo(ok.latency, 6);
    expect(ok.ttft).toBeLessThan(ok.latency);
  }, 60_000);

  it('mixed_warfare.yaml unchanged: weighted endpoints and the Per-Endpoint Breakdown', async () => {
    const r = await servelab(['loadtest', '--config', 'data/configs/mixed_warfare.yaml', '--sim', 'mixed-warfare', '--duration', '3', '--users', '6', '--ramp-up', '0', ...common('mixed')]);
    expect(r.code, r.stderr).toBe(0);
    const breakdown = r.stdout.split('=== Per-Endpoint Breakdown ===')[1]!;
    expect(breakdown.indexOf('  Flash:')).toBeGreaterThan(0);
    expect(breakdown.indexOf('  Thinker:')).toBeGreaterThan(breakdown.indexOf('  Flash:'));
    const totals = [...breakdown.matchAll(/Total Requests: (\d+)/g)].map((m) => Number(m[1]));
    expect(totals.reduce((a, b) => a + b, 0)).toBe(num(r.stdout, 'Total Requests'));
    expect(breakdown).toMatch(/Latency P50\/P90\/P99: [\d.]+s \/ [\d.]+s \/ [\d.]+s/);
    const res = resultsOf('mixed');
    expect(new Set(res.details.map((d: { endpoint: string }) => d.endpoint))).toEqual(new Set(['Flash', 'Thinker']));
  }, 60_000);

  it('pushes the old metric names to a real Pushgateway with job/instance grouping; an unreachable one is a warning', async () => {
    const port = await freePort();
    const gw = spawn('/usr/bin/prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50; i++) {
        if (await fetch(`http://127.0.0.1:${port}/-/ready`).then((x) => x.ok, () => false)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const cfg = path.join(tmp, 'push.yaml');
      fs.writeFileSync(
        cfg,
        fs.readFileSync('data/configs/workload.yaml', 'utf8').replace(/prometheus:[\s\S]*$/, '') +
          `prometheus:\n  enabled: true\n  pushgateway_url: "http://127.0.0.1:${port}"\n  job_name: "lt_test"\n  instance_name: "ci"\n  push_interval_seconds: 1\n  username: "admin"\n  password: "secret"\n`,
      );
      const r = await servelab(['loadtest', '--config', cfg, '--sim', 'llama-cpp', '--duration', '3', '--users', '3', '--ramp-up', '0', ...common('push')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Pushgateway: [2-9] push\(es\)/);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name}\\{instance="ci",job="lt_test"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      for (const n of ['llm_client_lag_p50_seconds', 'llm_client_lag_p90_seconds', 'llm_client_lag_p99_seconds', 'llm_ttft_p50_seconds', 'llm_ttft_p90_seconds', 'llm_ttft_p99_seconds', 'llm_tokens_per_second', 'llm_request_rate_per_second']) {
        expect(value(n), n).toBeGreaterThan(0);
      }
      expect(value('llm_error_rate')).toBe(0);
      expect(value('llm_contention_error_rate')).toBe(0);
      expect(value('llm_active_users')).toBe(0); // the last push, after the end
      expect(value('llm_client_lag_p90_seconds')).toBeGreaterThanOrEqual(value('llm_client_lag_p50_seconds'));

      const dead = await freePort();
      fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace(`127.0.0.1:${port}`, `127.0.0.1:${dead}`));
      const u = await servelab(['loadtest', '--config', cfg, '--sim', 'llama-cpp', '--duration', '2', '--users', '2', '--ramp-up', '0', ...common('nopush')]);
      expect(u.code, u.stderr).toBe(0);
      expect(u.stderr).toMatch(/warning: Pushgateway http:\/\/127\.0\.0\.1:\d+: push failed \(.*\); the test goes on/);
      expect(u.stdout).toContain('=== Test Summary ===');
    } finally {
      gw.kill('SIGTERM');
    }
  }, 90_000);

  it('SIGTERM drains, prints the summary and leaves the run incomplete', async () => {
    let child: ChildProcess | undefined;
    const r = await servelab(['loadtest', '--config', 'data/configs/workload.yaml', '--sim', 'llama-cpp', '--duration', '60', '--users', '3', '--ramp-up', '0', '--grace', '1', ...common('term')], (c) => {
      child = c;
      let seen = '';
      c.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('run ') && !seen.includes('@@')) {
          seen += '@@';
          setTimeout(() => child!.kill('SIGTERM'), 2_500);
        }
      });
    });
    expect(r.code).toBe(1);
    expect(r.wallS).toBeLessThan(20);
    expect(r.stderr).toContain('SIGTERM: stopping');
    expect(r.stdout).toContain('=== Test Summary ===');
    const runDir = /run (\S+)/.exec(r.stderr)![1]!;
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')).status).toBe('incomplete');
  }, 60_000);

  it('--workers 2 writes two shards of one run; the summary covers both', async () => {
    const r = await servelab(['loadtest', '--config', 'data/configs/mixed_warfare.yaml', '--sim', 'mixed-warfare', '--duration', '3', '--users', '4', '--ramp-up', '0', '--workers', '2', ...common('workers')]);
    expect(r.code, r.stderr).toBe(0);
    const runDir = /run (\S+)/.exec(r.stderr)![1]!;
    const lines = (f: string) => fs.readFileSync(path.join(runDir, 'raw', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const s0 = lines('requests.jsonl');
    const s1 = lines('requests-1.jsonl');
    expect(s0.length).toBeGreaterThan(0);
    expect(s1.length).toBeGreaterThan(0);
    expect(new Set(s1.map((x) => x.shard))).toEqual(new Set([1]));
    const counted = [...s0, ...s1].filter((x) => x.status !== 'cancelled').length;
    expect(num(r.stdout, 'Total Requests')).toBe(counted);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')).status).toBe('complete');
  }, 60_000);

  it('a bad config sends nothing and exits 2 with FILE:line:column', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'server:\n  base_url: "http://127.0.0.1:9/completion"\nworkload:\n  users: 0\n');
    const r = await servelab(['loadtest', '--config', bad, ...common('bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:4:10: workload.users: 0 must be >= 1`);
    expect(fs.existsSync(path.join(tmp, 'bad', 'runs'))).toBe(false);
  });
});
