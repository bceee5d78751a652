// The real-clock driver on a manual clock with a deterministic engine double, the token
// counting convention, and the Prometheus number format.
import fs from 'node:fs';
import llamaTokenizer from 'llama-tokenizer-js';
import { describe, expect, it } from 'vitest';
import type { EngineListener, EngineRequest, EngineStats, OnlineEngine } from '../../simulator/types.ts';
import { RealClockDriver, type DriverEffects, type RequestSink } from '../../simulator/server/driver.ts';
import { goFloat } from '../../simulator/server/prom.ts';
import { LatenessWindow } from '../../simulator/server/metrics.ts';
import { countPromptTokens, OutputText } from '../../simulator/server/text.ts';

/** A test double: every running request gets one token per 10 ms step; steps start when work exists. */
class StepEngine implements OnlineEngine {
  private reqs: { id: string; left: number }[] = [];
  private stepEnd: number | undefined;
  constructor(private readonly L: EngineListener) {}
  add(r: EngineRequest): void {
    this.reqs.push({ id: r.id, left: r.maxTokens });
    if (this.stepEnd === undefined) this.stepEnd = r.arrival + 0.01;
  }
  abort(id: string): void {
    this.reqs = this.reqs.filter((r) => r.id !== id);
  }
  nextEventTime(): number | undefined {
    return this.stepEnd;
  }
  advanceTo(t: number): void {
    while (this.stepEnd !== undefined && this.stepEnd <= t) {
      const end = this.stepEnd;
      for (const r of this.reqs) {
        this.L.onTokens(r.id, end, 1);
        if (--r.left === 0) this.L.onFinish(r.id, end, 'length');
      }
      this.reqs = this.reqs.filter((r) => r.left > 0);
      this.stepEnd = this.reqs.length ? end + 0.01 : undefined;
    }
  }
  stats(): EngineStats {
    return { running: this.reqs.length, waiting: 0, kvUsage: 0, preemptions: 0, promptTokens: 0, generationTokens: 0, steps: 0 };
  }
}

function manual(): DriverEffects & { run(untilMs: number, lagMs?: number): void; now: number } {
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  const fx = {
    now: 0,
    nowMs: () => fx.now,
    setTimer: (fn: () => void, ms: number) => {
      timers.push({ at: fx.now + ms, fn, id: ++id });
      return id;
    },
    clearTimer: (h: unknown) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    /** Fires timers in order until untilMs; each fires `lagMs` late (a busy host). */
    run(untilMs: number, lagMs = 0) {
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > untilMs) break;
        timers.shift();
        fx.now = t.at + lagMs;
        t.fn();
      }
      fx.now = Math.max(fx.now, untilMs);
    },
  };
  return fx;
}

function sink(log: string[]): RequestSink {
  const pending: [number, number][] = [];
  return {
    onTokens: (n, t) => void pending.push([t, n]),
    onFinish: (reason, t) => void log.push(`finish ${reason} @${t.toFixed(3)}`),
    flush: (report) => {
      for (const [t, n] of pending.splice(0)) {
        log.push(`tokens ${n} @${t.toFixed(3)}`);
        report(t, n);
      }
    },
  };
}

describe('RealClockDriver', () => {
  it('writes each token when its step ends and measures lateness against the wall clock', () => {
    const fx = manual();
    const late: number[] = [];
    const d = new RealClockDriver(1, (_r, l) => new StepEngine(l), { onLateness: (s, n) => late.push(s * 1000, n) }, fx);
    const log: string[] = [];
    d.submit(0, { id: 'a', promptTokens: 3, maxTokens: 3 }, sink(log));
    expect(d.inFlight(0)).toBe(1);
    fx.run(100);
    expect(log).toEqual(['tokens 1 @0.010', 'tokens 1 @0.020', 'finish length @0.030', 'tokens 1 @0.030']);
    expect(late).toEqual([0, 1, 0, 1, 0, 1]);
    expect(d.inFlight(0)).toBe(0);
  });

  it('reports the delay of a late timer as lateness, and stops on abort', () => {
    const fx = manual();
    const late: number[] = [];
    const d = new RealClockDriver(1, (_r, l) => new StepEngine(l), { onLateness: (s) => late.push(Math.round(s * 1000)) }, fx);
    const log: string[] = [];
    d.submit(0, { id: 'a', promptTokens: 3, maxTokens: 5 }, sink(log));
    fx.run(25, 4);
    expect(late).toEqual([4, 4]);
    d.abort(0, 'a');
    fx.run(200);
    expect(log).toHaveLength(2);
    d.close();
  });
});

describe('RealClockDriver closing', () => {
  it("closes the replies that ended only after every token of the step is written", () => {
    const fx = manual();
    const d = new RealClockDriver(1, (_r, l) => new StepEngine(l), {}, fx);
    const log: string[] = [];
    // 'a' ends at the first step; 'b' and 'c' go on. Their sinks flush in submit order.
    const closer = (name: string): RequestSink => {
      let ended = false;
      let due: number[] = [];
      return {
        onTokens: (_n, t) => void due.push(t),
        onFinish: () => void (ended = true),
        flush: () => {
          for (const t of due) log.push(`${name} token @${t.toFixed(3)}`);
          due = [];
          return ended;
        },
        finishReply: () => void log.push(`${name} closed`),
      };
    };
    d.submit(0, { id: 'a', promptTokens: 3, maxTokens: 1 }, closer('a'));
    d.submit(0, { id: 'b', promptTokens: 3, maxTokens: 2 }, closer('b'));
    d.submit(0, { id: 'c', promptTokens: 3, maxTokens: 2 }, closer('c'));
    const flushed: string[] = [];
    fx.run(10);
    flushed.push(...log.splice(0));
    expect(flushed).toEqual(['a token @0.010', 'b token @0.010', 'c token @0.010', 'a closed']);
    fx.run(100);
    expect(log).toEqual(['b token @0.020', 'c token @0.020', 'b closed', 'c closed']);
  });
});

describe('RealClockDriver wake-up', () => {
  it('arms the timer early and spins to the step end, so tokens leave at their due time', () => {
    const fx = manual();
    const spins: number[] = [];
    const delays: number[] = [];
    const setTimer = fx.setTimer;
    const late: number[] = [];
    const wakes: number[] = [];
    const d = new RealClockDriver(
      1,
      (_r, l) => new StepEngine(l),
      { onLateness: (s) => late.push(s), onWakeup: (s) => wakes.push(s) },
      {
        ...fx,
        setTimer: (fn, ms) => (delays.push(ms), setTimer(fn, ms)),
        spinUntil: (ms) => {
          spins.push(ms - fx.now);
          fx.now = ms;
        },
      },
    );
    const log: string[] = [];
    fx.now = 0.4;
    d.submit(0, { id: 'a', promptTokens: 3, maxTokens: 2 }, sink(log));
    fx.run(100);
    expect(log).toEqual(['tokens 1 @0.010', 'finish length @0.020', 'tokens 1 @0.020']);
    // Due at 10.4 ms, armed at 0.4 ms for 9 ms (floor of 10 − 0.3): wakes at 9.4, spins the last 1 ms.
    expect(delays[0]).toBe(9);
    expect(spins.map((s) => Math.round(s * 10) / 10)).toEqual([1, 1]);
    expect(late).toEqual([0, 0]);
    expect(wakes).toEqual([0, 0]);
  });
});

describe('LatenessWindow', () => {
  it('estimates a quantile inside its bucket as histogram_quantile does, and resets', () => {
    const w = new LatenessWindow();
    w.add(0.0002, 98); // bucket (0, 0.5 ms]
    w.add(0.006, 2); // bucket (5, 7.5 ms]
    expect(w.total).toBe(100);
    // rank 99: the first of the 2 in (5, 7.5 ms] → 5 + 2.5 × 1/2 ms.
    expect(w.quantile(0.99) * 1000).toBeCloseTo(6.25, 9);
    expect(w.quantile(0.5) * 1000).toBeCloseTo((0.5 * 50) / 98, 9);
    w.add(9, 1000); // past the last bound: reports the last bound
    expect(w.quantile(0.99)).toBe(5);
    w.reset();
    expect([w.total, w.quantile(0.99)]).toEqual([0, 0]);
  });
});

describe('token convention', () => {
  it('counts prompt tokens exactly as llamaTokenizer.encode(prompt).length', () => {
    const src = fs.readFileSync('simulator/server/openai.ts', 'utf8') + fs.readFileSync('core/schema.ts', 'utf8');
    const texts = ['Hello', ' leading space', 'trailing  ', 'a   b\n\n c', 'naïve café 東京 🙂'];
    for (let i = 0; i < 300; i++) texts.push(src.slice((i * 977) % (src.length - 400), ((i * 977) % (src.length - 400)) + 20 + (i % 300)));
    for (const t of texts) expect(countPromptTokens(t), JSON.stringify(t)).toBe(llamaTokenizer.encode(t).length);
    expect(countPromptTokens('')).toBe(1); // BOS alone, as vLLM counts an empty prompt
  });

  it('emits one tokenizer token per output token, the same for the same prompt and seed', () => {
    const a = new OutputText('same prompt', 7);
    expect(llamaTokenizer.encode(a.text(0, 500), false, false)).toEqual(a.ids(0, 500));
    expect(new OutputText('same prompt', 7).text(0, 50)).toBe(a.text(0, 50));
    expect(new OutputText('same prompt', 8).text(0, 50)).not.toBe(a.text(0, 50));
  });
});

describe('Prometheus numbers as prometheus_client writes them', () => {
  it('formats floats like floatToGoString', () => {
    expect([12, 0.4375, 1730123456.789, 1e-5, Infinity, 0].map(goFloat)).toEqual(['12.0', '0.4375', '1.730123456789e+09', '1e-05', '+Inf', '0.0']);
  });
});
