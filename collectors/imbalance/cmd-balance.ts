// `servelab imbalance balance --backends URL,URL… --routing P`: the balancing front for real GPUs
// (one server per GPU), so the imbalance experiment compares policies on hardware too.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { ROUTERS, type RouterKind } from '../../simulator/cluster.ts';
import { startBalancer } from './balance.ts';

export const spec: CommandSpec = {
  name: 'imbalance balance',
  summary: 'a reverse proxy in front of N servers (one per GPU) with a routing policy; serves /metrics?gpu_id=N',
  description:
    'Generation requests (POST /v1/chat/completions, /v1/completions, /completion, /generate) go to the backend the policy picks ' +
    'from the proxy\'s own counts (round-robin; least-outstanding and jsq by requests in flight; jsq-tokens by request bytes in ' +
    'flight; power-of-two choices), answers stream back with x-gpu-id: N. GET /metrics?gpu_id=N → {"concurrency": n}; ' +
    'GET /metrics → the in-flight gauges; other paths (/v1/models, …) go to the first backend. Prints "listening on URL" when ready.',
  options: {
    backends: { type: 'list', help: 'server base URLs, GPU 0 first', metavar: 'URL,URL' },
    routing: { type: 'string', help: 'balancing policy', choices: ROUTERS, default: 'round-robin' },
    host: { type: 'string', help: 'address to bind', default: '127.0.0.1' },
    port: { type: 'integer', help: 'port (0: the OS picks)', default: 8000, min: 0 },
    seed: { type: 'integer', help: 'seed of power-of-two\'s draws', default: 0 },
  },
  examples: [
    'servelab imbalance balance --backends http://gpu0:8001,http://gpu0:8002,http://gpu0:8003,http://gpu0:8004 --routing power-of-two --port 8000',
    'servelab imbalance generate --endpoint http://127.0.0.1:8000/v1/chat/completions --metrics-endpoint http://127.0.0.1:8000/metrics -t 600',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const b = await startBalancer({ backends: opt.list(p, 'backends'), routing: opt.str(p, 'routing') as RouterKind, host: opt.str(p, 'host'), port: opt.num(p, 'port'), seed: opt.num(p, 'seed') });
  process.stdout.write(`listening on ${b.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await b.close();
  process.stderr.write(`forwarded per GPU: ${b.forwarded.join(', ')}\n`);
  return 0;
}
