// Shared helpers of the simulated-server tests: start a server on 127.0.0.1:0 with the real
// serving model, and raw HTTP calls that return the exact bytes.
import { defaultConfig, finalizeConfig, mergeConfig, type ServerConfig } from '../../simulator/server/config.ts';
import { startSimServer, type SimServer, type StartOptions } from '../../simulator/server/server.ts';

export async function startTest(patch: Partial<ServerConfig> = {}, opts: StartOptions = {}): Promise<SimServer> {
  const c = finalizeConfig(mergeConfig(defaultConfig(), { host: '127.0.0.1', port: 0, ...patch }));
  return startSimServer(c, { effects: { warn: () => {} }, ...opts });
}

export async function post(url: string, body: unknown): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** The JSON payloads of an SSE body, in order (`[DONE]` kept as the string). */
export function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}
