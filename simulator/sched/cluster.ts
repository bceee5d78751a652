// The seed's H100 clusters and GPU allocation: a task of TP degree p takes p free GPUs
// aligned to p (a TP group), the lowest-numbered such group first, so runs are deterministic.
import { choiceList, usageError } from '../../core/errors.ts';

export const CLUSTERS = { h100_8gpu: 8, h100_16gpu: 16, h100_32gpu: 32, h100_64gpu: 64 } as const;
export type ClusterName = keyof typeof CLUSTERS;
export const CLUSTER_NAMES = Object.keys(CLUSTERS) as ClusterName[];
export const isClusterName = (x: string): x is ClusterName => Object.hasOwn(CLUSTERS, x);

export function clusterGpus(name: string): number {
  if (!isClusterName(name)) throw usageError(`--cluster: ${choiceList(name, CLUSTER_NAMES)}`);
  return CLUSTERS[name];
}

export class GpuPool {
  private readonly busy: boolean[];
  freeCount: number;

  constructor(readonly size: number) {
    this.busy = new Array<boolean>(size).fill(false);
    this.freeCount = size;
  }

  /** Group GPU lists by TP degree, made once and shared (callers never modify them). */
  private readonly groups = new Map<number, readonly number[][]>();

  /** The first free group of `tp` GPUs aligned to tp, or null. */
  find(tp: number): number[] | null {
    if (tp > this.freeCount) return null;
    let groups = this.groups.get(tp);
    if (!groups) {
      const made: number[][] = [];
      for (let base = 0; base + tp <= this.size; base += tp) made.push(Array.from({ length: tp }, (_, i) => base + i));
      groups = made;
      this.groups.set(tp, groups);
    }
    for (const group of groups) {
      let ok = true;
      for (const g of group) if (this.busy[g]) ok = false;
      if (ok) return group;
    }
    return null;
  }

  take(gpus: readonly number[]): void {
    for (const g of gpus) this.busy[g] = true;
    this.freeCount -= gpus.length;
  }

  release(gpus: readonly number[]): void {
    for (const g of gpus) this.busy[g] = false;
    this.freeCount += gpus.length;
  }
}

export function groupLabel(gpus: readonly number[]): string {
  return gpus.length === 1 ? `gpu${gpus[0]}` : `gpu${gpus[0]}-${gpus[gpus.length - 1]}`;
}
