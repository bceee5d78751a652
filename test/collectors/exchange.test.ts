import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/clock.ts';
import { Exchange } from '../../collectors/exchange.ts';
import { handlers, newState, type Protocol } from '../../collectors/protocols.ts';

// Drives an exchange by hand: the bytes arrive in the given pieces, one clock tick apart.
async function drive(protocol: Protocol, pieces: Buffer[]) {
  const clock = manualClock();
  const handler = handlers[protocol];
  const state = newState('p');
  const x = new Exchange({ clock, handler, state, stream: true });
  x.onConnect(() => {});
  x.onHeaders(200);
  for (const p of pieces) {
    clock.advance(1);
    x.onData(p);
  }
  x.onComplete();
  const res = await x.done;
  return { res, state };
}

const sse = (events: (object | string)[]) => events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');
const comp = (text: unknown, finish: string | null = null, extra: object = {}) => ({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, logprobs: null, finish_reason: finish }], ...extra });
const chat = (delta: object, finish: string | null = null) => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
const usage = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } };


// every case must give the same outcome whatever the TCP split
const cases: Record<string, { protocol: Protocol; body: string }> = {
  bom: { protocol: 'openai-completions', body: '\ufeff' + sse([comp('a'), comp('ü', 'stop'), '[DONE]']) },
  plain: { protocol: 'openai-completions', body: sse([comp('Hello'), comp(' world'), comp('!', 'length'), usage, '[DONE]']) },
  escaped: { protocol: 'openai-completions', body: sse([comp('a "quoted"\nline\\'), comp('tab\there', 'stop'), '[DONE]']) },
  unicodeEscape: { protocol: 'openai-completions', body: 'data: {"choices":[{"index":0,"text":"caf\\u00e9 \\ud83d\\ude00","finish_reason":null}]}\n\ndata: [DONE]\n\n' },
  multibyte: { protocol: 'openai-completions', body: sse([comp('héllo wörld '), comp('日本語'), comp('😀🎉', 'length'), usage, '[DONE]']) },
  spaced: { protocol: 'openai-completions', body: 'data: {"choices": [{"index": 0, "text": "spaced", "finish_reason": null}]}\n\ndata: [DONE]\n\n' },
  nullText: { protocol: 'openai-completions', body: sse([comp(null), comp('a'), '[DONE]']) },
  textValue: { protocol: 'openai-completions', body: sse([{ ...comp('a'), type: 'text' }, comp('"text":"fake"'), '[DONE]']) },
  roleChunk: { protocol: 'openai-chat', body: sse([chat({ role: 'assistant', content: '' }), chat({ content: 'Hi' }), chat({ content: ' there' }, 'stop'), { ...usage, object: 'chat.completion.chunk' }, '[DONE]']) },
  reasoning: { protocol: 'openai-chat', body: sse([chat({ reasoning_content: 'think', content: null }), chat({ content: 'ok' }, 'stop'), '[DONE]']) },
  contentNull: { protocol: 'openai-chat', body: sse([chat({ role: 'assistant', content: null }), chat({ content: 'x' }), '[DONE]']) },
  errorNested: { protocol: 'openai-completions', body: sse([comp('a'), { error: { message: 'engine died', code: 500 } }, '[DONE]']) },
  errorFlat: { protocol: 'openai-chat', body: sse([chat({ content: 'a' }), { object: 'error', message: 'engine died', code: 500 }, '[DONE]']) },
  twoChoices: { protocol: 'openai-completions', body: sse([{ choices: [{ index: 0, text: 'a', finish_reason: null }, { index: 1, text: 'b', finish_reason: 'stop' }] }, '[DONE]']) },
  malformed: { protocol: 'openai-completions', body: sse([comp('a')]) + 'data: {"choices":[{"text":"x"\n\n' + sse(['[DONE]']) },
  mismatched: { protocol: 'openai-completions', body: sse([comp('a')]) + 'data: {"choices":[{"text":"x"}}]\n\n' + sse(['[DONE]']) },
  trailing: { protocol: 'openai-completions', body: sse([comp('a')]) + 'data: {"choices":[{"text":"x"}]}}\n\n' + sse(['[DONE]']) },
};

describe('Exchange: SSE bytes to response state', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: same state and outcome whatever the byte split`, async () => {
      const bytes = Buffer.from(c.body, 'utf8');
      const full = await drive(c.protocol, [bytes]);
      // every two-piece split, including inside multi-byte characters
      for (let cut = 1; cut < bytes.length; cut++) {
        const { state, res } = await drive(c.protocol, [bytes.subarray(0, cut), bytes.subarray(cut)]);
        expect(state.text.join(''), `${name} cut ${cut}`).toBe(full.state.text.join(''));
        expect([state.finishReason, state.outputTokensServer, state.error, res.outcome]).toEqual([full.state.finishReason, full.state.outputTokensServer, full.state.error, full.res.outcome]);
      }
    });
  }

  it('reads the token text, finish reason and usage of a plain stream', async () => {
    const { state, res } = await drive('openai-completions', [Buffer.from(cases.plain!.body)]);
    expect(res.outcome).toBe('ok');
    expect(state.text).toEqual(['Hello', ' world', '!']);
    expect([state.finishReason, state.outputTokensServer, state.promptTokensServer]).toEqual(['length', 5, 3]);
  });

  it('multi-byte text split byte by byte arrives whole', async () => {
    const bytes = Buffer.from(cases.multibyte!.body, 'utf8');
    const { state } = await drive('openai-completions', [...bytes].map((b) => Buffer.from([b])));
    expect(state.text.join('')).toBe('héllo wörld 日本語😀🎉');
  });

  it('a leading byte-order mark is dropped', async () => {
    const { state, res } = await drive('openai-completions', [Buffer.from(cases.bom!.body)]);
    expect([res.outcome, state.text]).toEqual(['ok', ['a', 'ü']]);
  });

  it('decodes escapes exactly', async () => {
    const { state } = await drive('openai-completions', [Buffer.from(cases.escaped!.body)]);
    expect(state.text).toEqual(['a "quoted"\nline\\', 'tab\there']);
    const u = await drive('openai-completions', [Buffer.from(cases.unicodeEscape!.body)]);
    expect(u.state.text).toEqual(['café 😀']);
  });

  it('the chat role chunk is the first chunk, not the first token', async () => {
    const events = cases.roleChunk!.body.split(/(?<=\n\n)/).map((e) => Buffer.from(e));
    const { state } = await drive('openai-chat', events);
    expect(state.firstChunkNs).toBeLessThan(state.firstTokenNs!);
    expect(state.text).toEqual(['Hi', ' there']);
    expect(state.chunkNs).toHaveLength(2);
  });

  it('an error frame after tokens is a stream error', async () => {
    for (const c of [cases.errorFlat!, cases.errorNested!]) {
      const { res } = await drive(c.protocol, [Buffer.from(c.body)]);
      expect([res.outcome, res.error]).toEqual(['stream_error', 'engine died']);
    }
  });

  it('a cut-off or mismatched event is a malformed stream', async () => {
    for (const c of [cases.malformed!, cases.mismatched!, cases.trailing!]) {
      const { res, state } = await drive(c.protocol, [Buffer.from(c.body)]);
      expect(res.outcome).toBe('stream_error');
      expect(res.error).toMatch(/^malformed SSE data/);
      expect(state.text).toEqual(['a']);
    }
  });

  it('the first and last token and every chunk time come from the clock at each event', async () => {
    const events = cases.plain!.body.split(/(?<=\n\n)/).map((e) => Buffer.from(e));
    const { state, res } = await drive('openai-completions', events);
    expect([state.firstChunkNs, state.firstTokenNs, state.lastTokenNs, state.endedNs, res.doneNs]).toEqual([1, 1, 3, 5, 5]);
    expect(state.chunkNs).toEqual([1, 2, 3]); // the usage chunk (choices: []) is not a token chunk
  });

  it('a non-2xx answer keeps the status and the start of its body; non-streamed JSON is read whole', async () => {
    const clock = manualClock();
    const x = new Exchange({ clock, handler: handlers['openai-completions'], state: newState(), stream: true });
    x.onConnect(() => {});
    x.onHeaders(503);
    x.onData(Buffer.from('{"error":"busy"}'));
    x.onComplete();
    expect(await x.done).toMatchObject({ outcome: 'http_error', httpStatus: 503, error: 'HTTP 503: {"error":"busy"}' });
    const state = newState();
    const y = new Exchange({ clock, handler: handlers['openai-completions'], state, stream: false });
    y.onConnect(() => {});
    y.onHeaders(200);
    const body = Buffer.from(JSON.stringify({ ...comp('日本', 'stop'), usage: usage.usage }));
    y.onData(body.subarray(0, 50));
    y.onData(body.subarray(50));
    y.onComplete();
    expect((await y.done).outcome).toBe('ok');
    expect([state.text, state.outputTokensServer, state.finishReason]).toEqual([['日本'], 5, 'stop']);
  });

  it('an abort before connect reaches undici at connect and is the reported cause', async () => {
    const x = new Exchange({ clock: manualClock(), handler: handlers['openai-completions'], state: newState(), stream: true });
    const reason = new Error('cancelled');
    x.abort(reason);
    let aborted: unknown = null;
    x.onConnect((e) => {
      aborted = e;
      x.onError(e!);
    });
    expect(aborted).toBe(reason);
    expect(await x.done).toMatchObject({ outcome: 'transport', cause: reason });
  });
});
