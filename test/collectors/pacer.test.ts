import { describe, expect, it } from 'vitest';
import { manualClock } from '../../core/clock.ts';
import { makePacer } from '../../collectors/pacer.ts';

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
});
