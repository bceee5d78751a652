// Readable breakdown of one priced step: each operation's FLOPs, bytes, compute and memory
// time, and which bound it hit, so a user sees why a step takes what it takes.
import { formatTable } from '../core/output.ts';
import type { OpDetail } from './cost-model.ts';
import type { StepCost } from './types.ts';

export interface Explanation {
  cost: StepCost;
  ops: OpDetail[];
  /** Share of the step per breakdown component (0…1). */
  shares: Record<string, number>;
  text: string;
}

const us = (s: number) => Number((s * 1e6).toFixed(1));

export function explainStep(cost: StepCost, ops: OpDetail[], title = ''): Explanation {
  const shares: Record<string, number> = {};
  for (const [k, v] of Object.entries(cost.breakdown)) shares[k] = cost.seconds > 0 ? v / cost.seconds : 0;
  const rows = ops.map((o) => [
    o.component,
    o.calls,
    Number((o.flops / 1e9).toFixed(3)),
    Number((o.bytes / 1e6).toFixed(2)),
    us(o.computeSeconds),
    us(o.memorySeconds),
    us(o.seconds),
    `${((o.seconds / (cost.seconds || 1)) * 100).toFixed(1)}%`,
    o.bound,
  ]);
  const table = formatTable(['op', 'calls', 'GFLOP', 'MB', 'compute_us', 'memory_us', 'time_us', 'share', 'bound'], rows);
  const lines = [
    ...(title ? [title] : []),
    table,
    '',
    `step time ${(cost.seconds * 1e3).toFixed(3)} ms; bottleneck: ${cost.bottleneck}`,
    'by component: ' +
      Object.entries(cost.breakdown)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${k} ${(v * 1e3).toFixed(3)} ms`)
        .join(', '),
  ];
  return { cost, ops, shares, text: lines.join('\n') };
}
