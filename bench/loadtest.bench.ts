// Load-tester benchmark: how many closed-loop users one `servelab loadtest` process keeps busy
// against an instant server (test/helpers/sse-server.ts in its own process, llama.cpp /completion,
// 16 chunks), and the same with --workers 2; then what one Pushgateway push costs (the SQL over the
// run's records so far + the HTTP push to Debian's prometheus-pushgateway) as the run grows.
// Prints figures only. CPU per request = the command's CPU (bash `times`: it and its workers)
// minus a 1-user, 0.5 s run of the same command (start-up, stages, report), over the extra requests.
// `npx tsx bench/loadtest.bench.ts`; LOADTEST_BENCH_SECONDS (default 5), LOADTEST_BENCH_USERS (8,32,128,512).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makePusher } from '../collectors/loadtest/push.ts';
import { spawnListening } from '../test/helpers/spawn-server.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SECONDS = Number(process.env.LOADTEST_BENCH_SECONDS ?? 5);
const USERS = (process.env.LOADTEST_BENCH_USERS ?? '8,32,128,512').split(',').map(Number);
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-ltbench-'));
const helper = path.join(ROOT, 'test/helpers/sse-server.ts');
const server = await spawnListening(process.execPath, ['--import', 'tsx', helper, '--port', '0', '--chunks', '16']);
const cfg = path.join(data, 'bench.yaml');
fs.writeFileSync(cfg, `server:\n  base_url: "${server.url}/completion"\n  model_alias: "m"\nworkload:\n  users: 1\n  duration_seconds: 1\n  ramp_up_seconds: 0\n  seed: 1\nprompts:\n  min_tokens: 8\n  max_tokens: 16\n`);
const TICK = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc. */
function procCpuS(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(after[11]) + Number(after[12])) / TICK;
}

interface Cell {
  users: number;
  workers: number;
  requests: number;
  durationS: number;
  cpuS: number;
  serverCpuS: number;
  runDir: string;
}

function loadtest(users: number, workers: number, seconds: number): Cell {
  const out = path.join(data, `out-${users}-${workers}-${seconds}`);
  const serverBefore = procCpuS(server.child.pid!);
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(ROOT, 'bin/servelab.js'))} loadtest --config ${JSON.stringify(cfg)} --users ${users} --duration ${seconds} --ramp-up 0 --workers ${workers} --grace 1 --no-push --data ${JSON.stringify(data)} --results ${JSON.stringify(path.join(data, 'results'))} > ${JSON.stringify(out)} 2> ${JSON.stringify(out + '.err')}; echo "rc $?"; times`;
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const serverCpuS = procCpuS(server.child.pid!) - serverBefore;
  const text = fs.readFileSync(out, 'utf8');
  const err = fs.readFileSync(out + '.err', 'utf8');
  if (!/rc 0/.test(r.stdout)) throw new Error(`loadtest failed: ${err.slice(-800)}`);
  // `times`: the shell's own line, then its children's (every descendant it and they waited for)
  const child = r.stdout.trim().split('\n').pop()!.split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t)!;
    return Number(m[1]) * 60 + Number(m[2]);
  });
  return {
    users, workers, serverCpuS,
    requests: Number(/^Total Requests: (\d+)/m.exec(text)![1]),
    durationS: Number(/^Duration: ([\d.]+)s/m.exec(text)![1]),
    cpuS: child[0]! + child[1]!,
    runDir: /run (\S+)/.exec(err)![1]!,
  };
}

console.log(`instant server ${server.url} (16 chunks a response, its own process); ${SECONDS} s per cell; load average ${os.loadavg()[0]!.toFixed(2)}`);
console.log('(2 shared cores, server and client on one host: the server takes one of them)');
const cells: Cell[] = [];
for (const workers of [1, 2]) {
  const base = loadtest(1, workers, 0.5);
  console.log(`\n--workers ${workers}   (fixed cost of the command: ${base.cpuS.toFixed(2)} CPU s for ${base.requests} requests)`);
  console.log('users   req/s   requests   client CPU µs/req   client cores   server CPU µs/req');
  let prev = 0;
  let knee: number | null = null;
  for (const users of USERS) {
    const c = loadtest(users, workers, SECONDS);
    cells.push(c);
    const rps = c.requests / c.durationS;
    const netCpu = c.cpuS - base.cpuS;
    const perReq = (1e6 * netCpu) / Math.max(1, c.requests - base.requests);
    console.log(
      `${String(users).padStart(5)}  ${rps.toFixed(0).padStart(6)}  ${String(c.requests).padStart(9)}  ${perReq.toFixed(0).padStart(18)}  ${(netCpu / c.durationS).toFixed(2).padStart(12)}  ${((1e6 * c.serverCpuS) / c.requests).toFixed(0).padStart(18)}`,
    );
    if (knee === null && prev > 0 && rps < 1.1 * prev) knee = users;
    prev = rps;
  }
  console.log(knee === null ? `req/s still rising at ${USERS.at(-1)} users` : `stops keeping up at ${knee} users: req/s gains under 10% from the level before`);
}

// Push cost per interval: the push query over each run's records so far, then the HTTP push.
const port = await new Promise<number>((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const gw = spawn('/usr/bin/prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
try {
  for (let i = 0; i < 50; i++) {
    if (await fetch(`http://127.0.0.1:${port}/-/ready`).then((x) => x.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`\nPushgateway push cost (prometheus-pushgateway on 127.0.0.1:${port}; the query reads the run's raw JSONL)`);
  console.log('records   ms/push (median of 5)   client CPU ms/push');
  const seen = new Set<number>();
  for (const c of [...cells].sort((a, b) => a.requests - b.requests)) {
    if (seen.has(c.requests)) continue;
    seen.add(c.requests);
    const pusher = makePusher({ url: `http://127.0.0.1:${port}`, job: 'bench', instance: 'b', intervalS: 5 }, c.runDir, 'main', (m) => console.error(m));
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await pusher.push(1, 1);
    const cpu = process.cpuUsage(cpu0);
    const sorted = [...pusher.costsMs].sort((a, b) => a - b);
    console.log(`${String(c.requests).padStart(7)}   ${sorted[2]!.toFixed(1).padStart(21)}   ${((cpu.user + cpu.system) / 1000 / 5).toFixed(1).padStart(18)}`);
  }
} finally {
  gw.kill('SIGTERM');
  await server.kill();
  fs.rmSync(data, { recursive: true, force: true });
}
