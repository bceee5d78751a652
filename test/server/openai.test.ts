// vLLM OpenAI API of the simulated server: the official `openai` client, exact SSE bytes of
// the key frames, usage and token counts, /v1/models, runtime LoRA, and bad input.
import llamaTokenizer from 'llama-tokenizer-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../../simulator/server/server.ts';
import { post, sseData, startTest } from './helpers.ts';

let srv: SimServer;
let client: OpenAI;

beforeAll(async () => {
  srv = await startTest({ maxModelLen: 128, runtimeLoraUpdating: true });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => srv.close());

describe('openai client', () => {
  it('streams a completion with usage that matches the emitted tokens and the tokenizer', async () => {
    const prompt = 'The capital of France is';
    const stream = await client.completions.create({ model: 'Llama-3-8B', prompt, max_tokens: 12, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const c of stream) {
      if (c.choices.length) {
        chunks++;
        text += c.choices[0]!.text;
        finish = c.choices[0]!.finish_reason ?? finish;
      }
      if (c.usage) usage = c.usage;
    }
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(12);
    expect(chunks).toBe(12);
    expect(usage?.prompt_tokens).toBe(llamaTokenizer.encode(prompt).length);
    expect(llamaTokenizer.encode(text, false, false).length).toBe(usage?.completion_tokens);
  });

  it('streams a chat completion: role chunk first, then content', async () => {
    const stream = await client.chat.completions.create({
      model: 'Llama-3-8B',
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: { role?: string; content?: string | null }[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      if (c.choices.length) deltas.push(c.choices[0]!.delta);
      if (c.usage) usage = c.usage;
    }
    expect(deltas[0]).toEqual({ role: 'assistant', content: '' });
    expect(deltas.length).toBe(6);
    expect(usage?.completion_tokens).toBe(5);
  });

  it('answers non-streaming requests with usage', async () => {
    const r = await client.completions.create({ model: 'Llama-3-8B', prompt: 'Hi' });
    expect(r.usage?.completion_tokens).toBe(16); // max_tokens defaults to 16 on completions
    expect(r.choices[0]!.finish_reason).toBe('length');
    const again = await client.completions.create({ model: 'Llama-3-8B', prompt: 'Hi' });
    expect(again.choices[0]!.text).toBe(r.choices[0]!.text); // seeded by prompt + seed
  });
});

describe('SSE bytes', () => {
  it('frames a completion stream as vLLM does', async () => {
    const r = await post(`${srv.url}/v1/completions`, { prompt: 'x', max_tokens: 2, stream: true, stream_options: {} });
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/event-stream/);
    const frames = r.text.split('\n\n');
    expect(frames.at(-1)).toBe('');
    expect(frames.at(-2)).toBe('data: [DONE]');
    expect(frames.at(-3)).toMatch(/^data: \{"id":"cmpl-[0-9a-f]{32}","object":"text_completion","created":\d+,"model":"Llama-3-8B","choices":\[\],"usage":\{"prompt_tokens":\d+,"total_tokens":\d+,"completion_tokens":2\}\}$/);
    expect(frames.at(-4)).toMatch(/"choices":\[\{"index":0,"text":" [a-z]+","logprobs":null,"finish_reason":"length","stop_reason":null\}\]\}$/);
    expect(frames[0]).toMatch(/"choices":\[\{"index":0,"text":" [a-z]+","logprobs":null,"finish_reason":null,"stop_reason":null\}\]\}$/);
    expect(r.text).not.toContain('event:');
  });

  it('sends the role-only chat chunk and continuous usage', async () => {
    const r = await post(`${srv.url}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const data = sseData(r.text) as { choices: { delta: unknown; finish_reason: unknown }[]; usage?: { completion_tokens: number } }[];
    expect(r.text.split('\n\n')[0]).toMatch(/"choices":\[\{"index":0,"delta":\{"role":"assistant","content":""\},"logprobs":null,"finish_reason":null\}\],"usage":\{"prompt_tokens":\d+,"total_tokens":\d+,"completion_tokens":0\}\}$/);
    expect(data.slice(0, 3).map((d) => d.usage?.completion_tokens)).toEqual([0, 1, 2]);
    expect(data[2]!.choices[0]!.finish_reason).toBe('length');
    expect(data.at(-2)).toMatchObject({ choices: [], usage: { completion_tokens: 2 } });
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('frames plain chat token chunks byte for byte (role chunk, text chunks, last with finish_reason)', async () => {
    const r = await post(`${srv.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, ignore_eos: true, stream: true });
    const frames = r.text.split('\n\n');
    const head = /^data: \{"id":"chatcmpl-[0-9a-f]{32}","object":"chat\.completion\.chunk","created":\d+,"model":"Llama-3-8B","choices":/.source;
    expect(frames[0]).toMatch(new RegExp(`${head}\\[\\{"index":0,"delta":\\{"role":"assistant","content":""\\},"logprobs":null,"finish_reason":null\\}\\]\\}$`));
    for (const f of frames.slice(1, 3)) expect(f).toMatch(new RegExp(`${head}\\[\\{"index":0,"delta":\\{"content":" [a-z]+"\\},"logprobs":null,"finish_reason":null\\}\\]\\}$`));
    expect(frames[3]).toMatch(new RegExp(`${head}\\[\\{"index":0,"delta":\\{"content":" [a-z]+"\\},"logprobs":null,"finish_reason":"length","stop_reason":null\\}\\]\\}$`));
    expect(frames.slice(4)).toEqual(['data: [DONE]', '']);
  });

  it('omits usage without stream_options and clamps max_tokens to the context', async () => {
    const r = await post(`${srv.url}/v1/completions`, { prompt: 'x', max_tokens: 100000, ignore_eos: true, stream: true });
    const data = sseData(r.text);
    expect(data.every((d) => typeof d === 'string' || !('usage' in (d as object)))).toBe(true);
    const promptTokens = llamaTokenizer.encode('x').length;
    expect(data.length - 1).toBe(128 - promptTokens);
  });
});

describe('models and adapters', () => {
  it('lists the base model, loads and unloads an adapter at runtime', async () => {
    const load = await post(`${srv.url}/v1/load_lora_adapter`, { lora_name: 'sql', lora_path: '/adapters/sql' });
    expect(load).toMatchObject({ status: 200, text: "Success: LoRA adapter 'sql' added successfully." });
    expect((await post(`${srv.url}/v1/load_lora_adapter`, { lora_name: 'sql', lora_path: '/a' })).status).toBe(400);
    const models = (await (await fetch(`${srv.url}/v1/models`)).json()) as { data: { id: string; root: string; parent: string | null }[] };
    expect(models.data.map((m) => m.id)).toEqual(['Llama-3-8B', 'sql']);
    expect(models.data[1]).toMatchObject({ root: '/adapters/sql', parent: 'Llama-3-8B' });
    const r = await post(`${srv.url}/v1/completions`, { model: 'sql', prompt: 'select', max_tokens: 2 });
    expect(JSON.parse(r.text).model).toBe('sql');
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/^vllm:lora_requests_info\{max_lora="1",running_lora_adapters="",waiting_lora_adapters=""\} \d\.\d+e\+09$/m);
    expect((await post(`${srv.url}/v1/unload_lora_adapter`, { lora_name: 'sql' })).text).toBe("Success: LoRA adapter 'sql' removed successfully.");
    expect((await post(`${srv.url}/v1/unload_lora_adapter`, { lora_name: 'sql' })).status).toBe(404);
  });
});

describe('bad input gets vLLM status and error body, never a crash', () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ['unknown model', '/v1/completions', { model: 'nope', prompt: 'x' }, 404, /^The model `nope` does not exist\.$/],
    ['malformed JSON', '/v1/completions', '{"prompt": ', 400, /JSON decode error/],
    ['wrong field type', '/v1/completions', { prompt: 'x', max_tokens: 'ten' }, 400, /max_tokens/],
    ['stream_options without stream', '/v1/completions', { prompt: 'x', stream_options: { include_usage: true } }, 400, /^Stream options can only be defined when `stream=True`\.$/],
    ['prompt longer than the context', '/v1/completions', { prompt: 'word '.repeat(200) }, 400, /maximum context length is 128 tokens/],
    ['missing messages', '/v1/chat/completions', { model: 'Llama-3-8B' }, 400, /messages/],
  ];
  for (const [name, path, body, status, msg] of cases) {
    it(name, async () => {
      const r = await post(`${srv.url}${path}`, body);
      expect(r.status).toBe(status);
      const e = JSON.parse(r.text) as { error: { message: string; type: string; param: unknown; code: number } };
      expect(Object.keys(e.error)).toEqual(['message', 'type', 'param', 'code']);
      expect(e.error.code).toBe(status);
      expect(e.error.message).toMatch(msg);
    });
  }

  it('answers an unknown route 404 and a wrong method 405, as FastAPI does', async () => {
    expect([(await fetch(`${srv.url}/nope`)).status, (await fetch(`${srv.url}/v1/completions`)).status]).toEqual([404, 405]);
    expect((await post(`${srv.url}/generate`, {})).status).toBe(404); // no adapters configured
  });

  it('the openai client sees a NotFoundError for an unknown model', async () => {
    await expect(client.completions.create({ model: 'missing', prompt: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});
