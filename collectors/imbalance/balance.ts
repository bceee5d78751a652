// A small reverse proxy in front of N servers (one per GPU) with the cluster's routing policies,
// so the imbalance comparison runs against real GPUs: it forwards each generation request to the
// backend its policy picks, streams the answer back with `x-gpu-id: N`, and answers
// `GET /metrics?gpu_id=N` → {"concurrency": n} from its own in-flight counts.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { usageError } from '../../core/errors.ts';
import { createRouter, type ReplicaLoad, type RouterKind } from '../../simulator/cluster.ts';

const GENERATION_PATHS = ['/v1/chat/completions', '/v1/completions', '/completion', '/generate'];
/** A rough token count of a body for jsq-tokens (≈ 4 bytes per token); only the order matters. */
const BYTES_PER_TOKEN = 4;

export interface BalanceOptions {
  backends: string[];
  routing: RouterKind;
  host?: string;
  port?: number;
  seed?: number;
}

export interface Balancer {
  url: string;
  port: number;
  /** Requests in flight per backend now. */
  inFlight: number[];
  /** Requests forwarded per backend since start. */
  forwarded: number[];
  close(): Promise<void>;
}

interface Backend {
  url: URL;
  inFlight: number;
  tokens: number;
  forwarded: number;
}

/** Checks the backend list: each an http(s) base URL; a usage error names the bad one. */
export function parseBackends(list: string[]): URL[] {
  if (list.length === 0) throw usageError('--backends: give at least one server base URL, e.g. --backends http://gpu0:8000,http://gpu1:8000');
  return list.map((b, i) => {
    let u: URL;
    try {
      u = new URL(b);
    } catch {
      throw usageError(`--backends: '${b}' (item ${i + 1}) is not a URL (e.g. http://gpu0:8000)`);
    }
    if (u.protocol !== 'http:') throw usageError(`--backends: '${b}' (item ${i + 1}): only http:// backends`);
    return u;
  });
}

export async function startBalancer(o: BalanceOptions): Promise<Balancer> {
  const backends: Backend[] = parseBackends(o.backends).map((url) => ({ url, inFlight: 0, tokens: 0, forwarded: 0 }));
  const router = createRouter(o.routing, o.seed ?? 0);
  const loads: ReplicaLoad[] = backends.map((b) => ({ outstanding: () => b.inFlight, waitingCount: () => 0, outstandingTokens: () => b.tokens }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  const forward = (req: IncomingMessage, res: ServerResponse, i: number, body: Buffer | null) => {
    const b = backends[i]!;
    const generation = body !== null;
    const tokens = body ? Math.ceil(body.length / BYTES_PER_TOKEN) : 0;
    if (generation) {
      b.inFlight++;
      b.tokens += tokens;
      b.forwarded++;
    }
    let released = false;
    const release = () => {
      if (released || !generation) return;
      released = true;
      b.inFlight--;
      b.tokens -= tokens;
    };
    const headers = { ...req.headers, host: b.url.host };
    if (body) headers['content-length'] = String(body.length);
    const up = http.request({ host: b.url.hostname, port: b.url.port || 80, path: req.url, method: req.method, headers, agent }, (r) => {
      const h: http.OutgoingHttpHeaders = { ...r.headers };
      if (generation) h['x-gpu-id'] = String(i);
      res.writeHead(r.statusCode ?? 502, h);
      r.pipe(res);
      r.on('end', release);
      r.on('error', release);
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      release();
      if (!res.headersSent) {
        const text = JSON.stringify({ error: { message: `backend ${b.url.origin} (GPU ${i}): ${err.code ?? err.message}`, type: 'BadGateway', param: null, code: 502 } });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      } else res.destroy();
    });
    // the client went away: stop the backend's work too
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
      release();
    });
    if (body) up.end(body);
    else req.pipe(up);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://balance');
    if (req.method === 'GET' && url.pathname === '/metrics') return metrics(url, res);
    if (req.method === 'GET' && url.pathname === '/health') return void res.writeHead(200).end();
    if (req.method === 'POST' && GENERATION_PATHS.includes(url.pathname)) {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        const i = router.pick({ id: '', arrival: 0, promptTokens: Math.ceil(body.length / BYTES_PER_TOKEN), maxTokens: 0 }, loads);
        forward(req, res, i, body);
      });
      return;
    }
    // anything else (/v1/models, /v1/load_lora_adapter, …) goes to the first backend as is
    forward(req, res, 0, null);
  });

  const metrics = (url: URL, res: ServerResponse) => {
    const gpu = url.searchParams.get('gpu_id');
    if (gpu === null) {
      const lines = ['# HELP servelab_balance_in_flight requests in flight per backend (GPU)', '# TYPE servelab_balance_in_flight gauge'];
      backends.forEach((b, i) => lines.push(`servelab_balance_in_flight{gpu_id="${i}",backend="${b.url.origin}"} ${b.inFlight}`));
      const text = lines.join('\n') + '\n';
      return void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) }).end(text);
    }
    const id = /^\d+$/.test(gpu) ? Number(gpu) : NaN;
    const text = Number.isInteger(id) && id < backends.length
      ? JSON.stringify({ concurrency: backends[id]!.inFlight })
      : JSON.stringify({ error: `gpu_id must be an integer in [0, ${backends.length - 1}], got '${gpu}'` });
    res.writeHead(text.startsWith('{"c') ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    get inFlight() {
      return backends.map((b) => b.inFlight);
    },
    get forwarded() {
      return backends.map((b) => b.forwarded);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
