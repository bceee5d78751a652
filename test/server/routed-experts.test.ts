// --enable-return-routed-experts on the simulated server: non-streaming choices carry a base64
// .npy of each routed token's top-k experts per MoE layer, which the client-side decoder reads
// back into gate-log lines; a dense model answers null; without the option there is no field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routedExpertsToGateLines } from '../../collectors/moe/routed-experts.ts';
import { decodeNpy, encodeNpy } from '../../core/npy.ts';
import type { SimServer } from '../../simulator/server/server.ts';
import { post, startTest } from './helpers.ts';

type Choice = { routed_experts?: string | null };
const choicesOf = (text: string) => (JSON.parse(text) as { choices: Choice[]; usage: { prompt_tokens: number; completion_tokens: number } });

describe('npy writer', () => {
  it('round-trips through the decoder, int16 unless a value needs int32', () => {
    const a = decodeNpy(encodeNpy([0, 7, 3, 1, 2, 5], [3, 2]));
    expect(a).toEqual({ dtype: '<i2', shape: [3, 2], data: [0, 7, 3, 1, 2, 5] });
    expect(decodeNpy(encodeNpy([70000], [1]))).toEqual({ dtype: '<i4', shape: [1], data: [70000] });
    // the data starts on a 64-byte boundary, right after the header's newline, as np.save writes it
    const bytes = encodeNpy([1, 2], [2]);
    const dataAt = bytes.toString('latin1').indexOf('\n') + 1;
    expect([dataAt % 64, bytes.length - dataAt]).toEqual([0, 4]);
    expect(() => encodeNpy([1, 2, 3], [2])).toThrow(/holds 2 values/);
  });
});

describe('routed_experts', () => {
  let moe: SimServer;
  let dense: SimServer;
  let off: SimServer;
  beforeAll(async () => {
    moe = await startTest({ model: 'Mixtral-8x7B', gpus: 4, tp: 4, returnRoutedExperts: true });
    dense = await startTest({ returnRoutedExperts: true });
    off = await startTest({ model: 'Mixtral-8x7B', gpus: 4, tp: 4 });
  });
  afterAll(async () => {
    await Promise.all([moe.close(), dense.close(), off.close()]);
  });

  it('gives every routed token top_k distinct experts per layer, as a gate-log step the client can aggregate', async () => {
    const r = await post(`${moe.url}/v1/completions`, { prompt: 'Explain the derivative of a polynomial in calculus.', max_tokens: 5, ignore_eos: true });
    expect(r.status).toBe(200);
    const body = choicesOf(r.text);
    const b64 = body.choices[0]!.routed_experts!;
    const arr = decodeNpy(Buffer.from(b64, 'base64'));
    const tokens = body.usage.prompt_tokens + body.usage.completion_tokens - 1;
    expect(arr.shape).toEqual([tokens, 32, 2]);
    for (let t = 0; t < tokens; t++) {
      for (let l = 0; l < 32; l++) {
        const [a, b] = arr.data.slice((t * 32 + l) * 2, (t * 32 + l) * 2 + 2);
        expect(a).not.toBe(b);
        expect([a, b].every((e) => e! >= 0 && e! < 8)).toBe(true);
      }
    }
    const lines = routedExpertsToGateLines(b64, { experts: 8, step: 0, t: 0 });
    expect(lines).toHaveLength(32);
    for (const l of lines) expect(l.expert_counts.reduce((x, y) => x + y, 0)).toBe(tokens * 2);
    // Chat responses carry it too.
    const chat = await post(`${moe.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    expect(typeof choicesOf(chat.text).choices[0]!.routed_experts).toBe('string');
  });

  it('follows the prompt: the same prompt loads the same experts more alike than a prompt of another domain', async () => {
    const load = async (prompt: string) => {
      const r = await post(`${moe.url}/v1/completions`, { prompt, max_tokens: 32, ignore_eos: true });
      const lines = routedExpertsToGateLines(choicesOf(r.text).choices[0]!.routed_experts!, { experts: 8, step: 0, t: 0 });
      const sum = new Array<number>(8).fill(0);
      for (const l of lines) l.expert_counts.forEach((n, e) => (sum[e]! += n));
      const total = sum.reduce((a, b) => a + b, 0);
      return sum.map((n) => n / total);
    };
    const dist = (a: number[], b: number[]) => a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0);
    const p = 'Integrate the function and compute the derivative of the polynomial, then solve the equation.';
    const [a, b, c] = [await load(p), await load(p), await load('Write a poem about the sea, the wind and the sailors at night.')];
    expect(dist(a, b)).toBeLessThan(dist(a, c));
  });

  it('is null on a dense model and absent without the option; streaming responses never carry it', async () => {
    const d = await post(`${dense.url}/v1/completions`, { prompt: 'hi', max_tokens: 2 });
    expect(choicesOf(d.text).choices[0]!.routed_experts).toBeNull();
    const o = await post(`${off.url}/v1/completions`, { prompt: 'hi', max_tokens: 2 });
    expect('routed_experts' in choicesOf(o.text).choices[0]!).toBe(false);
    const s = await post(`${moe.url}/v1/completions`, { prompt: 'hi', max_tokens: 2, stream: true });
    expect(s.text).not.toContain('routed_experts');
  });
});
