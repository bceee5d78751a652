// The LoRA commands against the simulated /generate server on port 0: the smoke test, a probe
// that prints the COMPARATIVE SUMMARY and writes JSONL, per-request residency in the records,
// `servelab bench --endpoint /generate` unstreamed over adapters with the server's TTFT, bad input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as bench } from '../../../collectors/cmd-bench.ts';
import { run as probe } from '../../../collectors/lora/cmd-probe.ts';
import { run as sweep } from '../../../collectors/lora/cmd-sweep.ts';
import { smoke } from '../../../collectors/lora/cmd-smoke.ts';
import { type SimServer, simConfig, startSimServer } from '../../../simulator/server/server.ts';
import { captureOutput } from '../../helpers/capture.ts';

let srv: SimServer;
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lora-cmd-'));

beforeAll(async () => {
  srv = await startSimServer(simConfig({ preset: 'lora', port: 0, model: 'Llama-2-7B', lora: { totalLoras: 8, gpuLoras: 2, maxLoras: 2, rank: 8 } }));
}, 30_000);
afterAll(async () => {
  await srv?.close();
  fs.rmSync(data, { recursive: true, force: true });
});

const records = (dir: string) => fs.readFileSync(path.join(dir, 'raw', 'requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('lora commands against the simulated server', () => {
  it('smoke: every check passes; a wrong M fails the configuration check', async () => {
    const lines: string[] = [];
    const checks = await smoke(srv.url, 8, 2, 4, 10_000, { fetch, out: (l) => lines.push(l) });
    expect(checks.filter((c) => !c.ok), lines.join('\n')).toEqual([]);
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(8);
    const bad = await smoke(srv.url, 8, 4, 4, 10_000, { fetch, out: () => {} });
    expect(bad.find((c) => c.name === 'configuration')?.ok).toBe(false);
  });

  it('probe: the COMPARATIVE SUMMARY, a JSONL of metadata and summaries, residency per request', async () => {
    const out = path.join(data, 'probe.jsonl');
    const r = await captureOutput(() => probe(['-e', srv.url, '--total-loras', '8', '--arrival-rates', '4,8', '-d', '1.5', '-o', out, '--data', data]));
    expect(r.value).toBe(0);
    expect(r.stdout).toMatch(/^={80}\nCOMPARATIVE SUMMARY \(short prompts\)\n={80}\n {4}Rate \| Success% \| {3}Tokens \| {3}TTFT Med \| {3}TTFT P99 \| {4}Lat Med \| {7}Status\n-{9}\+/);
    expect(r.stdout).toMatch(/\n {5}4\.0 \| {3}100\.0% \|/);
    expect(r.stdout).toMatch(/Recommended arrival rate: \d+ req\/s|No rate is OK/);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['metadata', 'summary', 'summary']);
    expect(lines[0]).toMatchObject({ 'total-loras': 8, gpu_loras: 2, dataset: 'builtin:sharegpt-like' });
    const runDir = /^run (.+)$/m.exec(r.stderr)![1]!;
    const recs = records(runDir);
    expect(recs.every((x) => x.extra.lora_step === 'probe' && x.protocol === 'generate' && typeof x.server_ttft_s === 'number')).toBe(true);
    expect(recs.every((x) => x.prompt_tokens_client >= 256 && x.prompt_tokens_client <= 1024)).toBe(true);
    expect(new Set(recs.map((x) => x.adapter)).size).toBeGreaterThan(3);
    // adapters 0 and 1 are resident from the start; the server says so per request
    expect(recs.every((x) => typeof x.adapter_resident === 'boolean')).toBe(true);
    expect(recs.some((x) => x.adapter_resident === false)).toBe(true);
  }, 60_000);

  it('bench --endpoint /generate: unstreamed by default, spread over --total-loras, the server TTFT in the summary', async () => {
    const r = await captureOutput(() => bench(['--base-url', srv.url, '--endpoint', '/generate', '--total-loras', '8', '--num-prompts', '12', '--random-input-len', '64', '--random-output-len', '4', '--data', data]));
    expect(r.value, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Successful requests:\s+12/);
    expect(r.stdout).toMatch(/Median server TTFT \(ms\):\s+[\d.]+/);
    const runDir = /^run (.+)$/m.exec(r.stderr)![1]!;
    const recs = records(runDir);
    expect(recs.every((x) => x.status === 'ok')).toBe(true);
    expect(new Set(recs.map((x) => x.adapter)).size).toBeGreaterThan(3);
  }, 60_000);

  it('bad input: clear usage errors before any load', async () => {
    const err = async (f: (a: string[]) => Promise<number>, argv: string[]) => {
      try {
        await captureOutput(() => f(argv));
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(await err(probe, ['-e', srv.url, '--total-loras', '8', '--arrival-rates', ' , '])).toMatch(/--arrival-rates: empty rate list/);
    expect(await err(probe, ['-e', srv.url, '--total-loras', '8', '--arrival-rates', '1,0'])).toMatch(/--arrival-rates: '0' is not a rate > 0/);
    expect(await err(probe, ['-e', srv.url, '--total-loras', '8', '-r', '-2'])).toMatch(/--arrival-rate: '-2' is not a rate > 0/);
    expect(await err(probe, ['-e', srv.url, '--total-loras', '16'])).toMatch(/--total-loras 16: the server at .* has 8 adapters/);
    const bad = path.join(data, 'bad.json');
    fs.writeFileSync(bad, '[\n  {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},\n  {"conversations": "oops"}\n]\n');
    expect(await err(probe, ['-e', srv.url, '--total-loras', '8', '--dataset', bad])).toMatch(/bad\.json:3.*conversations: missing or not an array/);
    expect(await err(probe, ['-e', srv.url, '--total-loras', '8', '--dataset', path.join(data, 'missing.json')])).toMatch(/missing\.json: no such file/);
    expect(await err(sweep, ['--total-loras', '8', '--gpu-loras', '8,16'])).toMatch(/--gpu-loras 16 is more than --total-loras 8/);
    expect(await err(sweep, ['--total-loras', '8', '--gpu-loras', '8', '-r', '0'])).toMatch(/--arrival-rate: 0 must be a rate > 0/);
    expect(await err(sweep, ['--gpu-loras', '8'])).toMatch(/--total-loras is required/);
  });

  it('sweep: a server that exits, never becomes healthy or dies mid-load is marked failed, and the sweep goes on', async () => {
    const dir = fs.mkdtempSync(path.join(data, 'servers-'));
    const script = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return `node ${path.join(dir, name)}`;
    };
    const exits = script('exits.js', 'process.exit(3);\n');
    const hangs = script('hangs.js', 'setTimeout(() => {}, 1e6);\n');
    // answers /health and /reset_swap_stats, then dies at the first /generate
    const dies = script('dies.js', [
      "const port = Number(process.argv[process.argv.indexOf('--port') + 1]);",
      "require('node:http').createServer((req, res) => {",
      "  if (req.url === '/generate') process.exit(1);",
      "  res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}');",
      "}).listen(port, '127.0.0.1');",
    ].join('\n'));
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const out = path.join(dir, 'ttft.csv');
    for (const [command, m] of [[exits, '4'], [hangs, '2'], [dies, '1']] as const) {
      const r = await captureOutput(() => sweep(['--server', 'generate', '--command', command, '--port', String(port), '--total-loras', '4', '--gpu-loras', m, '-n', '3', '-r', '20', '--startup-timeout', '3', '-o', out, '--data', data]));
      expect(r.value).toBe(1);
      expect(r.stderr).toMatch(/FAILED: .*\(marked failed; the sweep goes on\)|stopped answering/);
    }
    const rows = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toMatch(/^run_timestamp,total_loras,gpu_loras,prompt_regime,arrival_rate,num_requests,ttft_median,ttft_p99,/);
    expect(rows.slice(1).map((l) => l.split(',').slice(2, 3).concat(l.split(',').slice(-2)))).toEqual([
      ['4', 'failed', 'server lora-m4 exited with code 3'],
      ['2', 'failed', 'server lora-m2 did not become healthy within 3 s (last: connection refused); it was stopped'],
      ['1', 'failed', expect.stringMatching(/the server stopped answering during the load/)],
    ]);
    // the dead server's requests are in the run, as failures
    const runDir = fs.readdirSync(path.join(data, 'runs', 'lora')).map((d) => path.join(data, 'runs', 'lora', d)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
    expect(records(runDir).map((x) => x.status)).toEqual(['connection_error', 'connection_error', 'connection_error']);
  }, 60_000);
});
