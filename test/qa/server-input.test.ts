// Regression test for the simulated server's per-GPU concurrency endpoint: an empty or
// malformed gpu_id is a 400 naming the valid range, not GPU 0 (Number('') is 0).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServer } from '../../simulator/server/server.ts';
import { startTest } from '../server/helpers.ts';

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
