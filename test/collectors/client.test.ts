import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monotonicClock } from '../../core/clock.ts';
import { type Endpoint, makeAgent, sendRequest, AbortReason, RequestControl, requestBody } from '../../collectors/client.ts';
import { PROTOCOL_PATH, type Protocol } from '../../collectors/protocols.ts';
import { countTokens } from '../../collectors/tokenizer.ts';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

let srv: SseServer;
const agent = makeAgent();
const clock = monotonicClock();
beforeAll(async () => {
  srv = await startSseServer({ chunks: 4 });
});
afterAll(async () => {
  await srv.close();
  await agent.close();
});

const ep = (protocol: Protocol, baseUrl = srv.url): Endpoint => ({ name: protocol, baseUrl, path: PROTOCOL_PATH[protocol], protocol, model: 'm' });
const send = (protocol: Protocol, prompt: string, o: { stream?: boolean; timeoutMs?: number; baseUrl?: string; maxTokens?: number; adapter?: string } = {}) =>
  sendRequest(ep(protocol, o.baseUrl), { prompt, stream: o.stream ?? true, maxTokens: o.maxTokens ?? 4, adapter: o.adapter }, {}, {
    clock, dispatcher: agent, requestId: 'x', scheduledNs: clock.nowNs(), timeoutMs: o.timeoutMs ?? 5_000, countTokens,
  });

describe('record fields', () => {
  it('the work item\'s fields and tags are kept; computed fields win where a spread of them would', async () => {
    const base = { phase: 'warmup' as const, dataset: 'd', prompt_hash: 'h', prompt_words: 2, prompt_tokens_client: 3, scheduled_ns: 1, model: 'base-model', gpu: 4, tag_x: 'x', url: 'ignored' };
    const { record: r } = await sendRequest(ep('openai-completions'), { prompt: 'hi', stream: true, maxTokens: 4 }, base, {
      clock, dispatcher: agent, requestId: 'rid', scheduledNs: 5, timeoutMs: 5_000, countTokens,
    });
    const { request_id, endpoint, url, model, gpu, phase, dataset, prompt_hash, prompt_words, prompt_tokens_client, scheduled_ns, status } = r;
    expect({ request_id, endpoint, url, model, gpu, phase, dataset, prompt_hash, prompt_words, prompt_tokens_client, scheduled_ns, status }).toEqual({
      request_id: 'rid', endpoint: 'openai-completions', url: `${srv.url}/v1/completions`, model: 'base-model', gpu: 4, phase: 'warmup', dataset: 'd', prompt_hash: 'h', prompt_words: 2, prompt_tokens_client: 3, scheduled_ns: 5, status: 'ok',
    });
    expect((r as Record<string, unknown>).tag_x).toBe('x');
    // the same key set a spread of the work item's fields gives (JSON drops undefined ones)
    expect(Object.keys(JSON.parse(JSON.stringify(r))).sort()).toEqual(Object.keys(JSON.parse(JSON.stringify({ ...base, ...r }))).sort());
  });
});

describe('OpenAI SSE', () => {
  it('completions: chunks, usage chunk gives server counts, [DONE], ordered timestamps', async () => {
    const { record: r, state } = await send('openai-completions', 'hello there');
    expect(r.status).toBe('ok');
    expect(r.chunks).toBe(4);
    expect(r.output_tokens_server).toBe(4);
    expect(r.prompt_tokens_server).toBe(2);
    expect(r.output_tokens).toBe(4);
    expect(state.text.join('')).toBe('Hello world, this');
    expect(r.output_tokens_client).toBe(countTokens('Hello world, this'));
    expect(r.finish_reason).toBe('length');
    const order = [r.scheduled_ns, r.sent_ns, r.first_byte_ns, r.first_chunk_ns, r.first_token_ns, r.last_token_ns, r.done_ns] as number[];
    expect(order.every((t) => typeof t === 'number')).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('chat: the role-only chunk is the first chunk but not the first token', async () => {
    const { record: r, state } = await send('openai-chat', 'mode:slow hi');
    expect(r.status).toBe('ok');
    expect(r.first_chunk_ns!).toBeLessThan(r.first_token_ns!);
    expect(state.chunkNs[0]).toBe(r.first_token_ns);
    expect(r.chunks).toBe(4);
  });

  it('events split across TCP pieces, several events in one piece, comment lines', async () => {
    for (const mode of ['split', 'multi', 'comment']) {
      const { record: r, state } = await send('openai-completions', `mode:${mode}`);
      expect(r.status, mode).toBe('ok');
      expect(state.text.join(''), mode).toBe('Hello world, this');
      expect(r.output_tokens_server, mode).toBe(4);
    }
  });

  it('an error event after HTTP 200 (nested and flat) is a stream_error', async () => {
    for (const mode of ['error-mid', 'error-flat']) {
      const { record: r } = await send('openai-completions', `mode:${mode}`);
      expect(r.status).toBe('stream_error');
      expect(r.http_status).toBe(200);
      expect(r.error).toContain('engine died');
    }
  });

  it('a malformed SSE line and a stream without [DONE] are stream_errors', async () => {
    const bad = await send('openai-completions', 'mode:malformed');
    expect(bad.record.status).toBe('stream_error');
    expect(bad.record.error).toMatch(/malformed SSE/);
    const cut = await send('openai-completions', 'mode:no-done');
    expect(cut.record.status).toBe('stream_error');
    expect(cut.record.error).toMatch(/without \[DONE\]/);
  });

  it('non-streaming JSON body', async () => {
    const { record: r } = await send('openai-completions', 'hi', { stream: false });
    expect(r.status).toBe('ok');
    expect(r.output_tokens_server).toBe(4);
    expect(r.last_token_ns).toBe(r.done_ns);
  });
});

describe('errors become records', () => {
  it('503 and 500 are http_errors with the status', async () => {
    const a = await send('openai-completions', 'mode:503');
    expect([a.record.status, a.record.http_status]).toEqual(['http_error', 503]);
    const b = await send('openai-chat', 'mode:500');
    expect([b.record.status, b.record.http_status]).toEqual(['http_error', 500]);
  });
  it('a refused connection is a connection_error', async () => {
    const dead = await startSseServer();
    const url = dead.url;
    await dead.close();
    const { record: r } = await send('openai-completions', 'hi', { baseUrl: url });
    expect(r.status).toBe('connection_error');
    expect(r.error).toMatch(/ECONNREFUSED/);
    expect(r.first_byte_ns).toBeNull();
  });
  it('a server that dies mid-stream is a connection_error', async () => {
    const { record: r } = await send('openai-completions', 'mode:die');
    expect(r.status).toBe('connection_error');
    expect(r.first_token_ns).not.toBeNull();
  });
  it('no answer within the timeout is a timeout', async () => {
    const { record: r } = await send('openai-completions', 'mode:hang', { timeoutMs: 150 });
    expect(r.status).toBe('timeout');
  });
  it('an abort is cancelled', async () => {
    const ac = new AbortController();
    const p = sendRequest(ep('openai-completions'), { prompt: 'mode:hang', stream: true }, {}, { clock, dispatcher: agent, requestId: 'c', controller: ac });
    setTimeout(() => ac.abort(new AbortReason('cancelled')), 30);
    expect((await p).record.status).toBe('cancelled');
  });
  it('a RequestControl cancels mid-stream, or before the request is sent', async () => {
    const ctl = new RequestControl();
    const p = sendRequest(ep('openai-completions'), { prompt: 'mode:hang', stream: true }, {}, { clock, dispatcher: agent, requestId: 'c', controller: ctl });
    setTimeout(() => ctl.abort(new AbortReason('cancelled')), 30);
    const r = (await p).record;
    expect([r.status, r.error]).toEqual(['cancelled', 'cancelled before the response completed']);
    const early = new RequestControl();
    early.abort(new AbortReason('cancelled'));
    const e = (await sendRequest(ep('openai-completions'), { prompt: 'hi', stream: true }, {}, { clock, dispatcher: agent, requestId: 'd', controller: early })).record;
    expect([e.status, e.first_byte_ns, e.chunks]).toEqual(['cancelled', null, 0]);
    // the connection pool still works afterwards
    expect((await send('openai-completions', 'hi')).record.status).toBe('ok');
  });
  it('a pre-serialized body is sent as given', async () => {
    const e = ep('openai-chat');
    const body = requestBody(e, { prompt: 'a b c d e', stream: true, maxTokens: 2 });
    expect(JSON.parse(body)).toMatchObject({ model: 'm', messages: [{ role: 'user', content: 'a b c d e' }], max_tokens: 2, stream: true });
    // the spec says 4 tokens, the body 2: the server follows the body
    const { record: r } = await sendRequest(e, { prompt: 'x', stream: true, maxTokens: 4 }, {}, { clock, dispatcher: agent, requestId: 'b', body });
    expect([r.status, r.output_tokens_server, r.prompt_tokens_server]).toEqual(['ok', 2, 5]);
  });
});

describe('llama.cpp and /generate', () => {
  it('/completion ends on stop:true without [DONE]; timings kept', async () => {
    const { record: r } = await send('llamacpp', 'a b c');
    expect(r.status).toBe('ok');
    expect(r.output_tokens_server).toBe(4);
    expect(r.prompt_tokens_server).toBe(3);
    expect(r.finish_reason).toBe('limit');
    expect((r.server_timings as { predicted_n: number }).predicted_n).toBe(4);
    expect(r.chunks).toBeGreaterThanOrEqual(4);
  });
  it('/generate: server ttft and completion_time, model_id as adapter', async () => {
    const { record: r } = await send('generate', 'Hello', { stream: false, adapter: '5' });
    expect(r.status).toBe('ok');
    expect(r.server_ttft_s).toBe(0.0234);
    expect(r.server_latency_s).toBe(0.156);
    expect(r.adapter).toBe('5');
    // the echoed prompt is not output: 4 words → 'Hello world, this'
    expect(r.output_tokens_client).toBe(countTokens('Hello world, this'));
  });
});
