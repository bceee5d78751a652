// HTTP helpers of the simulated server: bounded body reading, JSON and text replies, and the
// error bodies each protocol uses (vLLM's nested OpenAI shape, llama.cpp's, FastAPI's detail).
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The error's `type` (vLLM: BadRequestError, NotFoundError, …). */
    readonly kind: string = 'BadRequestError',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `request body exceeds ${limit} bytes`));
        req.destroy();
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parses a JSON object body; anything else is vLLM's 400 (FastAPI's json_invalid, re-mapped by vLLM). */
export function parseJsonObject(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `JSON decode error: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'Input should be a valid dictionary or object to extract fields from');
  return v as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * vLLM's error body. We emit the newer nested shape `{"error":{"message","type","param","code"}}`
 * (vLLM ≥ 0.10 `ErrorResponse(error=ErrorInfo(...))`); older builds sent the flat
 * `{"object":"error",...}`, which collectors also accept.
 */
export function vllmError(status: number, message: string, type: string, param: string | null = null) {
  return { error: { message, type, param, code: status } };
}

/** llama.cpp's error body (`format_error_response`). */
export function llamaError(status: number, message: string, type: string) {
  return { error: { code: status, message, type } };
}

/** Starts an SSE reply: status and headers go out now, as a streaming server sends them. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
}

/**
 * Writes one SSE piece. On a chunked HTTP/1.1 reply it frames the chunk itself and writes it
 * to the socket in one call: the same bytes as res.write, without the per-write cork/uncork
 * work of node:http, which is most of the JS cost per token at thousands of streams. With
 * `end`, the reply ends too, and the last piece and the terminating chunk leave in one
 * writev (the socket is corked around them; res.end() uncorks it fully, synchronously).
 */
export function writeSse(res: ServerResponse, text: string, end = false): void {
  const sock = res.socket;
  if (sock && !sock.destroyed && (res as unknown as { chunkedEncoding?: boolean }).chunkedEncoding && res.headersSent && !res.writableEnded) {
    if (end) sock.cork();
    sock.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    if (end) res.end();
  } else if (!res.writableEnded) {
    if (end) res.end(text);
    else res.write(text);
  }
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
} as const;

/** Field checks that answer as pydantic would (400 naming the field), never a crash. */
export const field = {
  optInt(body: Record<string, unknown>, name: string, min?: number): number | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new HttpError(400, `${name}: Input should be a valid integer, got ${JSON.stringify(v)}`, 'BadRequestError', name);
    if (min !== undefined && v < min) throw new HttpError(400, `${name} must be at least ${min}, got ${v}.`, 'BadRequestError', name);
    return v;
  },
  /** A float field; as pydantic's lax mode, a numeric string is accepted too. */
  optNum(body: Record<string, unknown>, name: string): number | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new HttpError(400, `${name}: Input should be a valid number, got ${JSON.stringify(v)}`, 'BadRequestError', name);
    return n;
  },
  optBool(body: Record<string, unknown>, name: string): boolean | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new HttpError(400, `${name}: Input should be a valid boolean, got ${JSON.stringify(v)}`, 'BadRequestError', name);
    return v;
  },
  optStr(body: Record<string, unknown>, name: string): string | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new HttpError(400, `${name}: Input should be a valid string, got ${JSON.stringify(v)}`, 'BadRequestError', name);
    return v;
  },
  optObj(body: Record<string, unknown>, name: string): Record<string, unknown> | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `${name}: Input should be a valid dictionary, got ${JSON.stringify(v)}`, 'BadRequestError', name);
    return v as Record<string, unknown>;
  },
};
