// GPU contention between model instances of one simulated server process: servers whose
// `gpus: [ids]` name the same device IDs time-slice those devices (the mixed-warfare setup).
//
// The slicing rule (stated in `sim serve --help` and simulator/server/README.md): a step that
// starts while k replicas sharing at least one of its GPUs have requests in the engine (itself
// included) takes k × its solo time; k is read when the step starts and holds for that step.
// Each busy tenant so gets 1/k of the device, round-robin: one model's load raises the other's
// TTFT and TPOT, and their combined throughput is below the sum of each alone.
import type { CostModel, StepCost } from '../types.ts';

export interface Tenant {
  readonly name: string;
  readonly gpus: readonly number[];
  /** Whether the tenant has work (requests waiting or running); set once its engine exists. */
  busy: () => boolean;
}

export class GpuShare {
  private readonly tenants: Tenant[] = [];

  /** Adds a replica on these device IDs; returns its handle (busy() is wired later). */
  register(name: string, gpus: readonly number[]): Tenant {
    const t: Tenant = { name, gpus: [...gpus], busy: () => false };
    this.tenants.push(t);
    return t;
  }

  /** Replicas that share at least one GPU with `t`, itself included. */
  neighbours(t: Tenant): Tenant[] {
    return this.tenants.filter((o) => o === t || o.gpus.some((g) => t.gpus.includes(g)));
  }

  /** k of the slicing rule for a step of `t` starting now: busy tenants on its GPUs, itself counted. */
  slowdown(t: Tenant): number {
    let k = 1;
    for (const o of this.tenants) if (o !== t && o.gpus.some((g) => t.gpus.includes(g)) && o.busy()) k++;
    return k;
  }

  /** The cost model of a tenant: each step priced solo, then stretched by k (breakdown `gpu_share`). */
  costModel<C extends CostModel>(base: C, t: Tenant): C {
    const stepTime = (shape: Parameters<CostModel['stepTime']>[0]): StepCost => {
      const solo = base.stepTime(shape);
      const k = this.slowdown(t);
      if (k === 1) return solo;
      return { seconds: solo.seconds * k, breakdown: { ...solo.breakdown, gpu_share: solo.seconds * (k - 1) }, bottleneck: solo.bottleneck };
    };
    return { ...base, stepTime };
  }
}

/** The device IDs of one replica: its tp·ep consecutive entries of the server's `gpuIds`. */
export function replicaGpuIds(gpuIds: readonly number[], replica: number, perReplica: number): number[] {
  return gpuIds.slice(replica * perReplica, (replica + 1) * perReplica);
}
