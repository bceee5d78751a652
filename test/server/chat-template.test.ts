// Chat templates of the simulated server: the rendered prompt of each family, its token count
// (one per special token, the LLaMA tokenizer between them), the templates' own 400s, and the
// chat usage a client sees.
import llamaTokenizer from 'llama-tokenizer-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChat, templateFor } from '../../simulator/server/chat-template.ts';
import { HttpError } from '../../simulator/server/http.ts';
import type { SimServer } from '../../simulator/server/server.ts';
import { post, startTest } from './helpers.ts';

const enc = (s: string) => llamaTokenizer.encode(s, false, false).length;

describe('chat templates', () => {
  it('picks the instruct template of each model family', () => {
    expect(['Llama-3-8B', 'Llama-3-70B', 'Llama-2-7B', 'Mixtral-8x7B', 'Qwen3-32B', 'DeepSeek-R1-Distill-Llama-70B', 'OPT-125M'].map(templateFor)).toEqual([
      'llama-3',
      'llama-3',
      'llama-2',
      'mistral',
      'chatml',
      'deepseek-r1',
      'none',
    ]);
  });

  it('renders Llama-3 headers and counts each special token once', () => {
    const r = renderChat('Llama-3-8B', [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: ' Say hello ' },
    ]);
    expect(r.text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nSay hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    const specials = 1 + 3 * 2 + 2; // BOS, three per message, two for the assistant header
    expect(r.tokens).toBe(specials + enc('system') + enc('\n\nBe brief.') + enc('user') + enc('\n\nSay hello') + enc('assistant') + enc('\n\n'));
  });

  it('renders Llama-2 [INST] with the system prompt in the first turn, and ChatML for Qwen', () => {
    const r = renderChat('Llama-2-7B', [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' },
    ]);
    expect(r.text).toBe('<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nQ1 [/INST] A1 </s><s>[INST] Q2 [/INST]');
    expect(r.tokens).toBe(3 + enc('[INST] <<SYS>>\nS\n<</SYS>>\n\nQ1 [/INST]') + enc(' A1 ') + enc('[INST] Q2 [/INST]'));
    expect(renderChat('Qwen3-32B', [{ role: 'user', content: 'hi' }]).text).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it("answers a template's own errors as vLLM does: roles that do not alternate, a model without a template", () => {
    const bad = [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ];
    expect(() => renderChat('Mixtral-8x7B', bad)).toThrow(/Conversation roles must alternate/);
    expect(() =>
      renderChat('Mixtral-8x7B', [
        { role: 'user', content: 'a' },
        { role: 'system', content: 's' },
      ]),
    ).toThrow(/Only user and assistant roles/);
    expect(() => renderChat('OPT-125M', [{ role: 'user', content: 'a' }])).toThrow(HttpError);
    expect(() => renderChat('Llama-3-8B', bad)).not.toThrow();
  });
});

describe('chat over HTTP', () => {
  let srv: SimServer;
  let opt: SimServer;
  beforeAll(async () => {
    srv = await startTest();
    opt = await startTest({ model: 'OPT-125M' });
  });
  afterAll(async () => {
    await srv.close();
    await opt.close();
  });

  it("reports the templated prompt's tokens in usage, more than the message alone", async () => {
    const messages = [{ role: 'user', content: 'What is the capital of France?' }];
    const r = await post(`${srv.url}/v1/chat/completions`, { model: 'Llama-3-8B', messages, max_tokens: 2 });
    expect(r.status).toBe(200);
    const usage = (JSON.parse(r.text) as { usage: { prompt_tokens: number } }).usage;
    expect(usage.prompt_tokens).toBe(renderChat('Llama-3-8B', messages).tokens);
    expect(usage.prompt_tokens).toBeGreaterThan(llamaTokenizer.encode(messages[0]!.content).length);
  });

  it('answers 400 with the error body for a model without a chat template; completions still work', async () => {
    const r = await post(`${opt.url}/v1/chat/completions`, { model: 'OPT-125M', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: { type: 'BadRequestError', code: 400, message: expect.stringMatching(/chat template/) } });
    expect((await post(`${opt.url}/v1/completions`, { model: 'OPT-125M', prompt: 'hi', max_tokens: 2 })).status).toBe(200);
  });
});
