// Readable breakdown of one priced step: each operation's FLOPs, bytes, compute and memory
// time, and which bound it hit, so a user sees why a step takes what it takes.
import { formatTable } from '../core/output.ts';
import { type Coefficients, type Term, priorCoefficients } from './coefficients.ts';
import type { OpDetail } from './cost-model.ts';
import type { StepCost } from './types.ts';

export interface Explanation {
  cost: StepCost;
  ops: OpDetail[];
  /** The terms that priced the step and where each comes from (measured or prior). */
  terms: TermRow[];
  /** Share of the step per breakdown component (0…1). */
  shares: Record<string, number>;
  text: string;
}

const us = (s: number) => Number((s * 1e6).toFixed(1));

/** One row per cost-model term the step used: its numbers and whether they were measured or are priors. */
export interface TermRow {
  term: Term;
  value: string;
  source: string;
}

const usv = (s: number) => `${Number((s * 1e6).toPrecision(3))} µs`;

export function termTable(c: Coefficients, ops: OpDetail[], eager: boolean): TermRow[] {
  const rows: TermRow[] = [];
  const add = (term: Term, value: string) => rows.push({ term, value, source: c.sources[term] ?? 'prior' });
  const fams = new Set(ops.map((o) => o.family));
  const prior = priorCoefficients();
  for (const f of fams) {
    if (f === 'tp_allreduce' || f === 'ep_all2all' || f === 'overhead') continue;
    const k = c.ops[f];
    // A measured family can keep a prior number its measurements do not reach (decode attention is never compute-bound).
    const keptPrior = c.sources[`ops.${f}`] && k.etaFlop === prior.ops[f].etaFlop ? ' (prior)' : '';
    add(`ops.${f}`, `etaFlop ${k.etaFlop.toFixed(3)}${keptPrior}, etaMem ${k.etaMem.toFixed(3)}, latency ${usv(k.latency)}`);
  }
  add('knee', String(c.knee));
  if (fams.has('tp_allreduce')) add('comm.allreduce', `alpha ${usv(c.comm.allreduceAlpha)}, bw fraction ${c.comm.allreduceBwFraction.toFixed(3)}`);
  if (fams.has('ep_all2all')) add('comm.all2all', `alpha ${usv(c.comm.all2allAlpha)}, bw fraction ${c.comm.all2allBwFraction.toFixed(3)}`);
  if (eager) {
    const own = [...fams].filter((f): f is keyof Coefficients['ops'] => f in c.ops && c.ops[f as keyof Coefficients['ops']].launchHost !== undefined);
    const per = own.map((f) => `${f} ${usv(c.ops[f].launchHost!)}`).join(', ');
    add('launch', `host ${usv(c.launch.hostSeconds)}${per ? ` (${per})` : ''}, gap ${usv(c.launch.gapSeconds)} per call`);
  }
  const o = c.overhead;
  add('overhead', `per layer ${usv(o.perLayer)}, per step ${usv(o.perStep)}, per request ${usv(o.perRequest)}, per MoE step ${usv(o.perMoeStep)}`);
  if (Object.values(c.scale).some((v) => v !== 1)) {
    add('scale', Object.entries(c.scale).filter(([, v]) => v !== 1).map(([k, v]) => `${k} ×${v.toFixed(3)}`).join(', '));
  }
  return rows;
}

export function explainStep(cost: StepCost, ops: OpDetail[], title = '', terms: TermRow[] = []): Explanation {
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
    ...(terms.length ? ['', 'terms (measured or prior):', formatTable(['term', 'value', 'source'], terms.map((t) => [t.term, t.value, t.source]))] : []),
  ];
  return { cost, ops, terms, shares, text: lines.join('\n') };
}
