import { describe, expect, it } from 'vitest';
import { manualClock, monotonicClock } from '../../core/clock.ts';
import { makePacer } from '../../collectors/pacer.ts';
import { processWaker } from '../../collectors/waker.ts';

describe('pacer', () => {
  it('waits until the target on the given clock and reports lateness', async () => {
    const clock = manualClock(0);
    const pacer = makePacer(clock);
    let done = false;
    const p = pacer.until(3_000_000).then((late) => {
      done = true;
      return late;
    });
    for (let i = 0; i < 20 && !done; i++) {
      await new Promise((r) => setImmediate(r));
      if (i === 5) clock.set(3_500_000);
    }
    expect(await p).toBe(500_000);
  });

  it('behind schedule it returns at once, but gives I/O a turn at least every maxBusyNs', async () => {
    const clock = manualClock(10_000_000);
    const pacer = makePacer(clock, { maxBusyNs: 1_000_000 });
    let ran = false;
    setImmediate(() => (ran = true));
    // overdue while the clock stands still: back-to-back, no macrotask turn
    for (let i = 0; i < 100; i++) expect(await pacer.until(0)).toBe(10_000_000);
    expect(ran).toBe(false);
    // 2 ms later, still overdue: this call lets the event loop (I/O, immediates) run first
    clock.advance(2_000_000);
    await pacer.until(0);
    expect(ran).toBe(true);
  });

  it('with the worker wake-up it never returns before the target (real clock, sub-ms waits)', async () => {
    const clock = monotonicClock();
    const pacer = makePacer(clock);
    // the worker starts on first use; until it is online the timer path is used
    for (let i = 0; i < 40; i++) {
      const target = clock.nowNs() + 300_000 + (i % 8) * 250_000;
      const late = await pacer.until(target);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(clock.nowNs()).toBeGreaterThanOrEqual(target);
    }
  });

  it('the waker serves one wait at a time: a new wait releases the one it supersedes', async () => {
    const w = processWaker()!;
    expect(w).not.toBeNull();
    const hr = () => Number(process.hrtime.bigint());
    await new Promise((r) => setTimeout(r, 50)); // online
    const far = w.at(hr() + 60e9);
    expect(w.busy).toBe(true);
    const nearAt = hr() + 1e6;
    const near = w.at(nearAt);
    await far; // released at once by the superseding wait
    await near;
    expect(hr()).toBeGreaterThanOrEqual(nearAt);
    expect(w.busy).toBe(false);
  });
});
