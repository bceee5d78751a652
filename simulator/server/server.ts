// The simulated server's HTTP front: one node:http server per configured server, routing
// each path to its protocol module, answering bad input with the status and body the real
// server would send, and never letting a request's error take the process down.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError } from '../../core/errors.ts';
import type { ServerConfig } from './config.ts';
export { simConfig } from './presets.ts';
import type { EngineFactory } from './driver.ts';
import { generateHealth, handleGenerateLora, resetSwapStats, swapStats } from './generate.ts';
import { HttpError, llamaError, readBody, sendJson, sendText, vllmError } from './http.ts';
import { defaultInstanceEffects, type InstanceEffects, SimInstance } from './instance.ts';
import { handleCompletion, listSlots, llamaHealth } from './llamacpp.ts';
import { handleGenerate, handleLora, listModels } from './openai.ts';
import { countPromptTokens, outputVocab } from './text.ts';
import { GpuShare } from './gpu-share.ts';

export interface StartOptions {
  /** Builds each replica's engine (default: the serving model, createEngine + createCostModel). */
  engineFactory?: (config: ServerConfig) => EngineFactory | Promise<EngineFactory>;
  effects?: Partial<InstanceEffects>;
  /** Device IDs shared between the servers started together (their `gpuIds`); startSimServers makes one. */
  gpuShare?: GpuShare;
}

export interface SimServer {
  url: string;
  host: string;
  port: number;
  config: ServerConfig;
  instance: SimInstance;
  close(): Promise<void>;
}

type Family = 'vllm' | 'llama' | 'generate' | 'plain';

const PROM_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

async function defaultEngineFactory(config: ServerConfig, share?: GpuShare): Promise<EngineFactory> {
  const mod = await import('./engine-factory.ts');
  return mod.servingModelFactory(config, share);
}

/** Starts one server; resolves once it listens (it answers from that moment). */
export async function startSimServer(config: ServerConfig, opts: StartOptions = {}): Promise<SimServer> {
  const factory = await (opts.engineFactory ? opts.engineFactory(config) : defaultEngineFactory(config, opts.gpuShare));
  // The tokenizer's tables and the output vocabulary load lazily: load them now, before the
  // first request, so its step's tokens are not late by the loading time (~0.1 s).
  countPromptTokens('warm up');
  outputVocab();
  const inst = new SimInstance(config, factory, { ...defaultInstanceEffects, ...opts.effects });
  const server = http.createServer((req, res) => {
    route(inst, req, res).catch((err) => fail(res, familyOf(inst, req), err));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'needs privileges' : `failed (${err.code ?? err.message})`;
      reject(new CliError(`${config.name}: listening on ${config.host}:${config.port} ${why}: pick another --port (0 lets the OS choose)`));
    });
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    config,
    instance: inst,
    close: async () => {
      await inst.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function familyOf(inst: SimInstance, req: IncomingMessage): Family {
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/generate' || path === '/swap_stats' || path === '/reset_swap_stats') return 'generate';
  if (path.startsWith('/v1/')) return 'vllm';
  if (path.endsWith('_expert_distribution_record')) return 'plain';
  return inst.config.api === 'llamacpp' ? 'llama' : 'vllm';
}

/** llama.cpp's error types for the server's error kinds. */
const LLAMA_TYPES: Record<string, string> = {
  BadRequestError: 'invalid_request_error',
  NotFoundError: 'not_found_error',
  InternalServerError: 'server_error',
  ServiceUnavailableError: 'unavailable_error',
};

function fail(res: ServerResponse, family: Family, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${(err as Error)?.message ?? String(err)}`, 'InternalServerError');
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  switch (family) {
    case 'vllm':
      return sendJson(res, e.status, vllmError(e.status, e.message, e.kind, e.param));
    case 'llama':
      return sendJson(res, e.status, llamaError(e.status, e.message, LLAMA_TYPES[e.kind] ?? e.kind));
    case 'generate':
      return sendJson(res, e.status, { detail: e.message });
    case 'plain':
      return sendText(res, e.status, e.message);
  }
}

function notFound(inst: SimInstance, res: ServerResponse): void {
  if (inst.config.api === 'llamacpp') sendJson(res, 404, llamaError(404, 'File Not Found', 'not_found_error'));
  else sendJson(res, 404, { detail: 'Not Found' });
}

async function route(inst: SimInstance, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  const m = req.method ?? 'GET';
  const c = inst.config;
  const post = m === 'POST';
  const get = m === 'GET' || m === 'HEAD';
  const llama = c.api === 'llamacpp';

  if (get && (path === '/health' || path === '/v1/health')) {
    if (llama) return llamaHealth(inst, res);
    if (c.lora) return sendJson(res, inst.loading() ? 503 : 200, generateHealth(inst));
    res.writeHead(inst.loading() ? 503 : 200, { 'content-length': 0 });
    return void res.end();
  }
  if (get && path === '/metrics') return metrics(inst, url, res);
  if (get && path === '/v1/models') return sendJson(res, 200, listModels(inst));
  // The server's finalized config, so a run records exactly what served it (servelab sim predict reads it).
  if (get && path === '/sim/config') return sendJson(res, 200, inst.config);
  if (post && path === '/v1/completions') return handleGenerate(inst, 'completion', req, res);
  if (post && path === '/v1/chat/completions') return handleGenerate(inst, 'chat', req, res);
  if (post && c.runtimeLoraUpdating && path === '/v1/load_lora_adapter') return handleLora(inst, 'load', req, res);
  if (post && c.runtimeLoraUpdating && path === '/v1/unload_lora_adapter') return handleLora(inst, 'unload', req, res);
  if (llama && post && path === '/completion') return handleCompletion(inst, req, res);
  if (llama && get && path === '/slots') {
    const list = listSlots(inst) as { is_processing: boolean }[];
    if (url.searchParams.get('fail_on_no_slot') === '1' && list.every((s) => s.is_processing)) {
      return sendJson(res, 503, llamaError(503, 'no slot available', 'unavailable_error'));
    }
    return sendJson(res, 200, list);
  }
  if (c.lora && post && path === '/generate') return handleGenerateLora(inst, req, res);
  if (c.lora && get && path === '/swap_stats') return sendJson(res, 200, swapStats(inst));
  if (c.lora && post && path === '/reset_swap_stats') return sendJson(res, 200, resetSwapStats(inst));
  if ((get || post) && path === '/start_expert_distribution_record') {
    inst.gates.start();
    return sendText(res, 200, 'Start recording the expert distribution.\n');
  }
  if ((get || post) && path === '/stop_expert_distribution_record') {
    inst.gates.stop();
    return sendText(res, 200, 'Stop recording the expert distribution.\n');
  }
  if ((get || post) && path === '/dump_expert_distribution_record') {
    let dir = c.gateLogDir ?? process.env.SGLANG_EXPERT_DISTRIBUTION_RECORDER_DIR ?? null;
    if (post) {
      const text = await readBody(req);
      if (text.trim()) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new HttpError(400, 'body must be JSON, e.g. {"dir": "/tmp/gates"}');
        }
        const d = (body as { dir?: unknown })?.dir;
        if (typeof d === 'string') dir = d;
      }
    }
    return sendJson(res, 200, inst.gates.dump(dir));
  }
  // A route that exists here but was called with the wrong method: 405, as FastAPI answers.
  const enabled: Record<string, boolean> = {
    '/health': true,
    '/metrics': true,
    '/v1/models': true,
    '/sim/config': true,
    '/v1/completions': true,
    '/v1/chat/completions': true,
    '/v1/load_lora_adapter': c.runtimeLoraUpdating,
    '/v1/unload_lora_adapter': c.runtimeLoraUpdating,
    '/completion': llama,
    '/slots': llama,
    '/generate': !!c.lora,
    '/swap_stats': !!c.lora,
    '/reset_swap_stats': !!c.lora,
  };
  if (enabled[path]) return sendJson(res, 405, { detail: 'Method Not Allowed' });
  return notFound(inst, res);
}

function metrics(inst: SimInstance, url: URL, res: ServerResponse): void {
  const gpu = url.searchParams.get('gpu_id');
  if (gpu !== null) {
    // The imbalance tools' per-GPU concurrency endpoint.
    const id = /^\d+$/.test(gpu) ? Number(gpu) : NaN; // '' and ' 1' are not ids (Number('') is 0)
    const perReplica = inst.config.tp * inst.config.ep;
    if (!Number.isInteger(id) || id < 0 || id >= inst.config.gpus) {
      return sendJson(res, 400, { error: `gpu_id must be an integer in [0, ${inst.config.gpus - 1}], got '${gpu}'` });
    }
    return sendJson(res, 200, { concurrency: inst.driver.inFlight(Math.floor(id / perReplica)) });
  }
  const stats = inst.stats();
  if (inst.config.api === 'llamacpp') {
    let processing = 0;
    let deferred = 0;
    for (const s of stats) {
      processing += s.running;
      deferred += s.waiting;
    }
    return sendText(res, 200, inst.metrics.renderLlama(stats, processing, deferred), PROM_TYPE);
  }
  inst.metrics.refresh(stats);
  if (inst.config.lora || inst.config.runtimeLoraUpdating) {
    const { running, waiting } = inst.loraActivity();
    const l = inst.config.lora;
    // The engine's batch limit: --max-loras, at most the adapters that fit in HBM.
    const maxLoras = l ? Math.max(1, Math.min(l.maxLoras, l.gpuLoras)) : 1;
    inst.metrics.setLoraInfo(maxLoras, running, waiting, inst.fx.unixSeconds());
  }
  sendText(res, 200, inst.metrics.renderVllm(), PROM_TYPE);
}

/** Starts every server of a multi-server config; closes those started if one fails. */
export async function startSimServers(configs: readonly ServerConfig[], opts: StartOptions = {}): Promise<SimServer[]> {
  const started: SimServer[] = [];
  // servers started together that name the same device IDs contend for them (gpu-share.ts)
  const shared = { ...opts, gpuShare: opts.gpuShare ?? new GpuShare() };
  try {
    for (const c of configs) started.push(await startSimServer(c, shared));
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  return started;
}
