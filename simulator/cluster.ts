// N replicas of the token-level engine behind a router: round-robin, least-outstanding,
// join-shortest-queue (by queued requests or by outstanding tokens), power-of-two choices.
import { choiceList, usageError } from '../core/errors.ts';
import { createEngine, type Engine, type EngineConfig } from './engine/index.ts';
import { createRng } from './rng.ts';
import type { EngineListener, EngineRequest } from './types.ts';

export const ROUTERS = ['round-robin', 'least-outstanding', 'jsq', 'jsq-tokens', 'power-of-two'] as const;
export type RouterKind = (typeof ROUTERS)[number];
export const isRouter = (s: string): s is RouterKind => (ROUTERS as readonly string[]).includes(s);

/** What a router reads of a replica. */
export interface ReplicaLoad {
  /** Requests in the replica, waiting and running. */
  outstanding(): number;
  /** Requests queued, not yet running. */
  waitingCount(): number;
  /** Uncomputed tokens + output tokens still allowed. */
  outstandingTokens(): number;
}

export interface Router {
  readonly kind: RouterKind;
  pick(req: EngineRequest, replicas: readonly ReplicaLoad[]): number;
}

/** Index of the smallest key, lowest index on ties. */
function argmin(n: number, key: (i: number) => number): number {
  let best = 0;
  let bestKey = key(0);
  for (let i = 1; i < n; i++) {
    const k = key(i);
    if (k < bestKey) {
      best = i;
      bestKey = k;
    }
  }
  return best;
}

export function createRouter(kind: string, seed = 0): Router {
  if (!isRouter(kind)) throw usageError(`router: ${choiceList(kind, ROUTERS)}`);
  const handlers: { [K in RouterKind]: () => Router['pick'] } = {
    'round-robin': () => {
      let next = 0;
      return (_req, reps) => {
        const i = next % reps.length;
        next = i + 1;
        return i;
      };
    },
    'least-outstanding': () => (_req, reps) => argmin(reps.length, (i) => reps[i]!.outstanding()),
    // Shortest queue of waiting requests; ties go to the one with fewer requests in all.
    jsq: () => (_req, reps) => argmin(reps.length, (i) => reps[i]!.waitingCount() * 1e9 + reps[i]!.outstanding()),
    'jsq-tokens': () => (_req, reps) => argmin(reps.length, (i) => reps[i]!.outstandingTokens()),
    'power-of-two': () => {
      const rng = createRng(seed, 'router-power-of-two');
      return (_req, reps) => {
        const n = reps.length;
        if (n === 1) return 0;
        const a = rng.int(n);
        let b = rng.int(n - 1);
        if (b >= a) b++;
        const la = reps[a]!.outstanding();
        const lb = reps[b]!.outstanding();
        return lb < la || (lb === la && b < a) ? b : a;
      };
    },
  };
  return { kind, pick: handlers[kind]() };
}

export interface ClusterConfig {
  replicas: number;
  router: RouterKind | Router;
  seed?: number;
  /** The engine of replica i (the same config for all, or one per replica). */
  engine: EngineConfig | ((replica: number) => EngineConfig);
}

export interface Replica extends ReplicaLoad {
  readonly index: number;
  readonly engine: Engine;
}

export interface Cluster {
  readonly replicas: readonly Replica[];
  readonly router: Router;
  /** Routes a request (the replicas must be advanced to its arrival first) and adds it; returns the replica. */
  add(req: EngineRequest): number;
  /** Advances every replica to t. */
  advanceTo(t: number): void;
  nextEventTime(): number | undefined;
}

export function createCluster(cfg: ClusterConfig, listenerFor: (replica: number) => EngineListener): Cluster {
  if (!Number.isInteger(cfg.replicas) || cfg.replicas < 1) throw usageError(`replicas: ${cfg.replicas} must be a whole number ≥ 1`);
  const router = typeof cfg.router === 'string' ? createRouter(cfg.router, cfg.seed ?? 0) : cfg.router;
  const replicas: Replica[] = [];
  for (let i = 0; i < cfg.replicas; i++) {
    const engine = createEngine(typeof cfg.engine === 'function' ? cfg.engine(i) : cfg.engine, listenerFor(i));
    replicas.push({
      index: i,
      engine,
      outstanding: () => engine.outstanding(),
      waitingCount: () => engine.waitingCount(),
      outstandingTokens: () => engine.outstandingTokens(),
    });
  }
  return {
    replicas,
    router,
    add(req) {
      const i = router.pick(req, replicas);
      replicas[i]!.engine.add(req);
      return i;
    },
    advanceTo(t) {
      for (const r of replicas) r.engine.advanceTo(t);
    },
    nextEventTime() {
      let best: number | undefined;
      for (const r of replicas) {
        const t = r.engine.nextEventTime();
        if (t !== undefined && (best === undefined || t < best)) best = t;
      }
      return best;
    },
  };
}
