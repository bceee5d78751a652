// Regression tests for the simulated server's input checks: an empty or malformed gpu_id is a
// 400 naming the valid range (not GPU 0), and sampling fields of the wrong type are a 400 as on vLLM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../../simulator/server/server.ts';
import { post, startTest } from '../server/helpers.ts';

let s: SimServer;
beforeAll(async () => {
  s = await startTest({ gpus: 2 });
});
afterAll(async () => {
  await s.close();
});

describe('GET /metrics?gpu_id=N', () => {
  it('answers a valid id and rejects empty, signed, fractional or out-of-range ones', async () => {
    expect(await (await fetch(`${s.url}/metrics?gpu_id=1`)).json()).toEqual({ concurrency: 0 });
    for (const bad of ['', '%20', '-0', '1.5', '0x1', '2']) {
      const res = await fetch(`${s.url}/metrics?gpu_id=${bad}`);
      expect(res.status, `gpu_id=${bad}`).toBe(400);
      expect(await res.json()).toEqual({ error: `gpu_id must be an integer in [0, 1], got '${decodeURIComponent(bad)}'` });
    }
  });
});

describe('sampling fields of the wrong type', () => {
  it('answers 400 naming the field, and accepts numbers and numeric strings', async () => {
    const base = { model: 'Llama-3-8B', prompt: 'hi', max_tokens: 2 };
    const bad = await post(`${s.url}/v1/completions`, { ...base, temperature: 'hot' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({
      error: { message: 'temperature: Input should be a valid number, got "hot"', type: 'BadRequestError', param: 'temperature', code: 400 },
    });
    const chat = await post(`${s.url}/v1/chat/completions`, { model: 'Llama-3-8B', messages: [{ role: 'user', content: 'hi' }], top_k: 1.5 });
    expect([chat.status, JSON.parse(chat.text).error.param]).toEqual([400, 'top_k']);
    for (const ok of [{ temperature: 0.7, top_p: 1, top_k: -1, seed: 3 }, { temperature: '0.5' }]) {
      expect((await post(`${s.url}/v1/completions`, { ...base, ...ok })).status).toBe(200);
    }
  });
});
