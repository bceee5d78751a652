// kill -9 of `servelab bench`: how many finished requests lose their record. The promise
// (DESIGN: a crash loses at most the last flush interval) is that only requests the server
// finished in the last 200 ms before the kill may be missing. The server (test/helpers/sse-server.ts,
// another process) stamps each response's end on CLOCK_MONOTONIC; the bench is the real CLI,
// killed with SIGKILL after a few seconds of load at 100 and 1,000 req/s; then the records on
// disk are counted against the server's own count.
// `npm run bench -- killnine`; KILLNINE_SECONDS (default 4), KILLNINE_RATES (default 100,1000).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnListening } from '../test/helpers/spawn-server.ts';
import { stampMs } from '../test/helpers/sse-server.ts';

const SECONDS = Number(process.env.KILLNINE_SECONDS ?? 4);
const RATES = (process.env.KILLNINE_RATES ?? '100,1000').split(',').map(Number);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const helper = path.join(ROOT, 'test/helpers/sse-server.ts');
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-killnine-'));

console.log(`kill -9 of servelab bench after ${SECONDS} s of open-loop load (2 shared cores, server and client on one host)`);
console.log('rate req/s | server done | records | missing | done ≤ kill−200 ms | promise | oldest missing, ms before kill');
for (const rate of RATES) {
  const server = await spawnListening(process.execPath, ['--import', 'tsx', helper, '--port', '0', '--chunks', '16', '--delay-ms', '2']);
  const runId = `kill-${rate}`;
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/servelab.js'), 'bench', '--base-url', server.url, '--data', data, '--run-id', runId,
    '--dataset-name', 'random', '--random-input-len', '8', '--random-output-len', '16', '--request-rate', String(rate), '--num-prompts', String(rate * (SECONDS + 30))],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const requests = path.join(data, 'runs/bench', runId, 'raw/requests.jsonl');
  // the load has begun once the first record is on disk; kill SECONDS later
  while (!(fs.existsSync(requests) && fs.statSync(requests).size > 0)) {
    if (child.exitCode !== null) throw new Error(`bench ended early: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const exited = new Promise((r) => child.once('exit', r));
  const killMs = stampMs();
  child.kill('SIGKILL');
  await exited;
  await new Promise((r) => setTimeout(r, 300)); // responses already on the wire finish at the server
  const done = ((await (await fetch(`${server.url}/completed`)).json()) as number[]).filter((t) => t <= killMs).sort((a, b) => a - b);
  await server.kill();
  const text = fs.readFileSync(requests, 'utf8');
  const records = text.split('\n').filter((l) => {
    try {
      return JSON.parse(l).status === 'ok';
    } catch {
      return false; // a torn last line
    }
  }).length;
  const dueBy = done.filter((t) => t <= killMs - 200).length;
  const missing = done.length - records;
  const oldest = missing > 0 ? (killMs - done[records]!).toFixed(0) : '-';
  console.log(`${String(rate).padStart(10)} | ${String(done.length).padStart(11)} | ${String(records).padStart(7)} | ${String(missing).padStart(7)} | ${String(dueBy).padStart(17)} | ${records >= dueBy ? 'held  ' : 'BROKEN'}  | ${oldest}`);
}
fs.rmSync(data, { recursive: true, force: true });
