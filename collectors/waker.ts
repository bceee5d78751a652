// A sub-millisecond wake-up for the pacer: a worker thread sleeps in Atomics.wait (futex,
// µs resolution) until the target and then posts a message, which wakes the event loop at once.
// libuv timers have 1 ms resolution (a 1 ms timer fires 0–2 ms later), so without this the pacer
// had to spin or be late by up to a millisecond; the worker costs one message per wait.
import { Worker } from 'node:worker_threads';

// Shared words: [0] generation (bumped by every request), [2..3] target as float64 hrtime ns.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const gen32 = new Int32Array(workerData, 0, 1);
const target = new Float64Array(workerData, 8, 1);
let fired = 0;
for (;;) {
  const gen = Atomics.load(gen32, 0);
  if (gen === fired) { Atomics.wait(gen32, 0, gen); continue; }
  const left = target[0] - Number(process.hrtime.bigint());
  if (left > 0) { Atomics.wait(gen32, 0, gen, left / 1e6); continue; }
  fired = gen;
  parentPort.postMessage(gen);
}`;

export interface Waker {
  /** Resolves at (or just after) `hrtimeNs` on process.hrtime; one wait at a time. */
  at(hrtimeNs: number): Promise<void>;
  /** Not started yet, or a wait is outstanding: the caller uses a timer instead. */
  readonly busy: boolean;
}

let shared: Waker | null | undefined;

/** The process's waker, started on first use; null where worker threads are unavailable. */
export function processWaker(): Waker | null {
  if (shared !== undefined) return shared;
  try {
    shared = startWaker();
  } catch {
    shared = null;
  }
  return shared;
}

function startWaker(): Waker {
  const sab = new SharedArrayBuffer(16);
  const gen32 = new Int32Array(sab, 0, 1);
  const target = new Float64Array(sab, 8, 1);
  // a plain-JS worker: no loader hooks, nothing of the parent's module graph
  const worker = new Worker(WORKER, { eval: true, workerData: sab, execArgv: [], env: {}, stdout: false, stderr: false });
  let gen = 0;
  let pending: (() => void) | null = null;
  let online = false;
  // never keeps the process alive while idle (an unref before the thread is up does not hold)
  worker.unref();
  worker.once('online', () => {
    online = true;
    if (!pending) worker.unref();
  });
  worker.on('message', (g: number) => {
    if (g !== gen || !pending) return; // a stale wake for a superseded request
    const r = pending;
    pending = null;
    worker.unref();
    r();
  });
  worker.on('error', () => {
    // a dead worker: release the waiter; later waits fall back to timers
    shared = null;
    const r = pending;
    pending = null;
    r?.();
  });
  return {
    get busy() {
      return !online || pending !== null;
    },
    at(hrtimeNs: number): Promise<void> {
      return new Promise<void>((resolve) => {
        if (pending) pending(); // superseded: the earlier waiter re-checks its clock
        pending = resolve;
        worker.ref(); // the process waits for this wake like it would for a timer
        target[0] = hrtimeNs;
        gen = gen === 0x7fffffff ? 1 : gen + 1;
        Atomics.store(gen32, 0, gen);
        Atomics.notify(gen32, 0);
      });
    },
  };
}
