// The protocol handlers' byte fast path must agree exactly with JSON.parse + event(): for every
// event it accepts, the same response state; for every text JSON.parse rejects, no acceptance.
// Hand-picked shapes first, then seeded mutations of real events (cuts, swaps, inserted bytes).
import { describe, expect, it } from 'vitest';
import { handlers, newState, type Protocol, type ResponseState } from '../../collectors/protocols.ts';
import { seededRng } from '../../collectors/rng.ts';

const comp = (text: unknown, finish: unknown = null, extra: object = {}) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text, logprobs: null, finish_reason: finish, stop_reason: null }], ...extra });
const chat = (delta: unknown, finish: unknown = null, extra: object = {}) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra });
const llama = (content: unknown, extra: object = {}) => JSON.stringify({ index: 0, content, tokens: [1000, 1001], stop: false, id_slot: 0, tokens_predicted: 1, tokens_evaluated: 2, ...extra });

const openaiEvents = [
  comp('Hello'), comp(' world', 'length'), comp(''), comp(null), comp('a "quoted"\nline\\ tab\t'), comp('héllo 日本語 😀'), comp('x', ''), comp('x', 'stop', { t: 12345.678 }),
  '{"choices":[{"index":0,"text":"caf\\u00e9 \\ud83d\\ude00","finish_reason":null}]}',
  ' { "choices" : [ { "index" : 0 , "text" : "spaced" , "finish_reason" : null } ] } ',
  '{"choices":[]}', '{}', '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}', '{"choices":[{"text":"a"}],"usage":null}',
  '{"error":{"message":"engine died","code":500}}', '{"error":null,"choices":[{"text":"a"}]}', '{"object":"error","message":"engine died"}', '{"object":"errors","choices":[{"text":"a"}]}',
  '{"choices":[{"text":"a","finish_reason":"stop"},{"text":"b","finish_reason":"length"}]}', '{"choices":[{"text":"a"}],"choices":[{"text":"b"}]}',
  '{"choices":[{"text":"a","text":"b"}]}', '{"choices":[{"text":5}]}', '{"choices":[{"text":"a","finish_reason":7}]}', '{"choices":[{"text":"a","finish_reason":true}]}',
  '{"choices":null}', '{"choices":[1]}', '{"choices":[{"text":"a"}],"nested":{"a":[1,2,{"b":[true,false,null,-1.5e-3,0,"\\"x"]}]}}',
  '{"choices":[{"text":"a"}],"n":-0.0E+10}', '{"\\u0063hoices":[{"text":"a"}]}', '{"choices":[{"te\\u0078t":"a"}]}', '{"type":"text","choices":[{"text":"\\"text\\":\\"fake\\""}]}',
  '{"choices":[{"text":"a"}]}}', '{"choices":[{"text":"a"}],}', '{"choices":[{"text":"a",}]}', '{"choices":[{"text":"a"}]', '{"choices":[{"text":"a\u0001"}]}', '{"choices":[{"text":"\\x"}]}',
  '{"choices":[{"text":"\\u12"}]}', '{"choices":[{"text":"a"}],"n":01}', '{"choices":[{"text":"a"}],"n":1.}', '{"choices":[{"text":"a"}],"n":-}', '{"choices":[{"text":"a"}],"b":tru}', "{'choices':[]}", '[]', '"x"', '',
  chat({ role: 'assistant', content: '' }), chat({ content: 'Hi' }), chat({ content: ' there' }, 'stop'), chat({ reasoning_content: 'think', content: null }), chat({ role: 'assistant', content: null }),
  chat({ content: null, reasoning_content: null }), chat({}), chat(null), chat('str'), chat({ content: 5 }), chat({ content: 'a' }, null, { usage: null }),
  '{"choices":[{"delta":{"content":"a"},"delta":{"role":"x"}}]}', '{"choices":[{"message":{"content":"whole"}}]}', '{"choices":[{"delta":{"content":null},"message":{"content":"m"}}]}',
  chat({ content: 'a' }, null, { usage: { prompt_tokens: 1, completion_tokens: 2 } }),
];
const llamaEvents = [
  llama('Hello'), llama(''), llama(null), llama('a\\b "c"'), llama('日本'), llama('x', { tokens: [] }), llama('x', { tokens: null }), llama('x', { tokens: 'no' }), llama('x', { tokens: [[1], { a: 2 }, 'x'] }),
  llama('x', { stop: true, stop_type: 'limit', timings: { predicted_n: 1 } }), llama('', { stop: true, tokens_predicted: 9 }), llama('x', { stop: 'yes' }), llama('x', { stop: null }),
  llama('x', { error: 'bad' }), llama('x', { object: 'error' }), '{"content":"a"}', '{"content":"a","stop":false}', '{"content":"a","stop":false,"stop":true}',
];

function viaParse(p: Protocol, data: string): ResponseState | 'malformed' {
  const s = newState('p');
  let ev: Record<string, unknown>;
  try {
    ev = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return 'malformed';
  }
  handlers[p].event(s, ev, 7);
  handlers[p].event(s, ev, 9); // a second event: first-chunk/first-token stamps stay the first
  return s;
}

function viaFast(p: Protocol, data: string): ResponseState | null {
  const s = newState('p');
  // the event sits inside a larger buffer, as it does in a read
  const b = Buffer.from(`data: ${data}\n\n`, 'utf8');
  const start = 6;
  const end = b.length - 2;
  if (!handlers[p].fast!(s, b, start, end, 7)) {
    expect(s, 'a refused event leaves the state untouched').toEqual(newState('p'));
    return null;
  }
  expect(handlers[p].fast!(s, b, start, end, 9)).toBe(true);
  return s;
}

function agree(p: Protocol, text: string): boolean {
  // what arrives is bytes: a lone surrogate a mutation made becomes U+FFFD on the wire for both paths
  const data = Buffer.from(text, 'utf8').toString('utf8');
  const fast = viaFast(p, data);
  if (fast === null) return false;
  const slow = viaParse(p, data);
  expect(slow, `JSON.parse rejects what the fast path accepted: ${data}`).not.toBe('malformed');
  expect(fast, data).toEqual(slow);
  return true;
}

describe('fast path agrees with JSON.parse + event()', () => {
  it('OpenAI completions and chat events of every shape', () => {
    let taken = 0;
    for (const e of openaiEvents) for (const p of ['openai-completions', 'openai-chat'] as const) taken += agree(p, e) ? 1 : 0;
    // the common shapes take the fast path (else it would never be exercised)
    expect(viaFast('openai-completions', comp('Hello'))?.text).toEqual(['Hello', 'Hello']);
    expect(viaFast('openai-chat', chat({ content: 'Hi' }, 'stop'))?.finishReason).toBe('stop');
    expect(viaFast('openai-completions', '{"choices":[{"text":"caf\\u00e9 \\ud83d\\ude00"}]}')?.text).toEqual(['café 😀', 'café 😀']);
    expect(taken).toBeGreaterThan(40);
  });

  it('llama.cpp token events; the closing stop:true event is left to the full parse', () => {
    let taken = 0;
    for (const e of llamaEvents) taken += agree('llamacpp', e) ? 1 : 0;
    expect(viaFast('llamacpp', llama('x', { stop: true }))).toBeNull();
    expect(viaFast('llamacpp', llama('Hello'))?.chunkTokens).toEqual([2, 2]);
    expect(taken).toBeGreaterThan(8);
  });

  it('mutated events: never accepted when JSON.parse rejects them, same state when both accept', () => {
    const rng = seededRng(5);
    const alphabet = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'n', 'u', 'l', '0', '-', 'e', '.', '\u0001', 'é', 'a', 't'];
    const seeds = [...openaiEvents.filter((e) => e.length > 2), ...llamaEvents];
    let accepted = 0;
    let rejected = 0;
    for (let k = 0; k < 6000; k++) {
      let s = seeds[rng.int(seeds.length)]!;
      for (let m = 1 + rng.int(2); m > 0; m--) {
        const at = rng.int(s.length + 1);
        const op = rng.int(3);
        if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
        else if (op === 1) s = s.slice(0, at) + alphabet[rng.int(alphabet.length)] + s.slice(at);
        else s = s.slice(0, at) + alphabet[rng.int(alphabet.length)] + s.slice(at + 1);
      }
      for (const p of ['openai-completions', 'openai-chat', 'llamacpp'] as const) {
        if (agree(p, s)) accepted++;
        else if (viaParse(p, s) === 'malformed') rejected++;
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(1000);
  });
});
