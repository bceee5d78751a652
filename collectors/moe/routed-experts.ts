// Client-side expert load from vLLM's --enable-return-routed-experts: each non-streaming choice
// carries `routed_experts`, a base64 .npy array (core/npy.ts) of per-token expert ids, turned into
// gate-log lines.
import { CliError } from '../../core/errors.ts';
import { decodeNpy } from '../../core/npy.ts';

export interface GateLine {
  step: number;
  layer: number;
  num_tokens: number;
  expert_counts: number[];
  rank: number;
  /** Seconds on the server's clock; null when unknown (a response's `created` is a wall-clock second, not a step time). */
  t: number | null;
}

/**
 * One request's routed experts as gate-log lines, one per MoE layer: shape (tokens, layers, top_k)
 * as vLLM returns it, or (tokens, top_k) for a single layer. `step` numbers the request (the
 * client does not see engine steps); negative ids (padding) are skipped.
 */
export function routedExpertsToGateLines(b64: string, opts: { experts: number; step: number; t: number | null; where?: string }): GateLine[] {
  const where = opts.where ?? 'routed_experts';
  const arr = decodeNpy(Buffer.from(b64, 'base64'), where);
  let [tokens, layers, topK] = arr.shape.length === 3 ? arr.shape : arr.shape.length === 2 ? [arr.shape[0]!, 1, arr.shape[1]!] : [NaN, NaN, NaN];
  if (!Number.isFinite(tokens)) throw new CliError(`${where}: shape (${arr.shape.join(', ')}): expected (tokens, layers, top_k) or (tokens, top_k)`);
  tokens = tokens!;
  layers = layers!;
  topK = topK!;
  const counts = Array.from({ length: layers }, () => new Array<number>(opts.experts).fill(0));
  for (let t = 0; t < tokens; t++) {
    for (let l = 0; l < layers; l++) {
      for (let k = 0; k < topK; k++) {
        const e = arr.data[(t * layers + l) * topK + k]!;
        if (e < 0) continue;
        if (e >= opts.experts) throw new CliError(`${where}: expert id ${e} at token ${t}, layer ${l} is not below --experts ${opts.experts}`);
        counts[l]![e]!++;
      }
    }
  }
  return counts.map((expert_counts, layer) => ({ step: opts.step, layer, num_tokens: tokens, expert_counts, rank: 0, t: opts.t }));
}
