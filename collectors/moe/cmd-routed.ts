// `servelab moe routed RESPONSES… --out DIR --experts N`: client-side expert load from vLLM's
// --enable-return-routed-experts — saved non-streaming responses → a gate-log file for cv/ingest.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError, inputError, usageError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/jsonl-writer.ts';
import { routedExpertsToGateLines, type GateLine } from './routed-experts.ts';

export const spec: CommandSpec = {
  name: 'moe routed',
  summary: "turn saved responses' routed_experts into gate_logs_client.jsonl (one step per choice)",
  description:
    'Each input line (or a whole .json file) is a non-streaming /v1/completions or /v1/chat/completions response; every ' +
    'choice with routed_experts (base64 .npy, shape (tokens, layers, top_k) or (tokens, top_k)) becomes one step: per-layer ' +
    'expert counts over its tokens. The client sees no engine steps, so the per-step CV is per request; the aggregated ' +
    'CV is the same as from server-side logs. Feed DIR to servelab moe cv or moe ingest.',
  options: {
    out: { type: 'string', short: 'o', help: 'gate-log directory to write gate_logs_client.jsonl into', metavar: 'DIR' },
    experts: { type: 'integer', help: 'experts per MoE layer (Mixtral: 8)', min: 1 },
  },
  positionals: [{ name: 'responses', help: 'response files (.jsonl: one response per line; .json: one response)', required: true, variadic: true }],
  examples: ['servelab moe routed responses.jsonl --experts 8 --out gates/baseline/gates_logs_07 && servelab moe cv gates/baseline/gates_logs_07'],
};

/** The gate-log lines of some response documents, steps numbered from `firstStep`; `where` names file:line in errors. */
export function responsesToGateLines(docs: { doc: unknown; where: string }[], experts: number, firstStep = 0): GateLine[] {
  const out: GateLine[] = [];
  let step = firstStep;
  for (const { doc, where } of docs) {
    const choices = (doc as { choices?: unknown })?.choices;
    if (!Array.isArray(choices)) throw inputError(where, 'choices', 'expected a list (a non-streaming completion response)');
    choices.forEach((c, i) => {
      const b64 = (c as { routed_experts?: unknown })?.routed_experts;
      if (b64 === undefined || b64 === null) return;
      if (typeof b64 !== 'string') throw inputError(where, `choices[${i}].routed_experts`, 'expected a base64 string');
      out.push(...routedExpertsToGateLines(b64, { experts, step, t: null, where: `${where}: choices[${i}].routed_experts` }));
      step++;
    });
  }
  return out;
}

/** Writes DIR/gate_logs_client.jsonl (atomically); returns its path. */
export function writeClientGateLog(dir: string, lines: readonly GateLine[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'gate_logs_client.jsonl');
  writeFileAtomic(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

function readDocs(file: string): { doc: unknown; where: string }[] {
  if (!fs.existsSync(file)) throw usageError(`${file}: no such file`);
  const text = fs.readFileSync(file, 'utf8');
  const parse = (s: string, where: string) => {
    try {
      return JSON.parse(s) as unknown;
    } catch (err) {
      throw inputError(where, undefined, `not valid JSON (${(err as Error).message})`);
    }
  };
  if (file.endsWith('.json')) return [{ doc: parse(text, file), where: file }];
  return text.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [{ doc: parse(line, `${file}:${i + 1}`), where: `${file}:${i + 1}` }]));
}

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const experts = opt.num(p, 'experts');
  if (experts === undefined) throw usageError('moe routed: --experts N is required (experts per MoE layer, e.g. 8 for Mixtral)');
  if (opt.str(p, 'out') === undefined) throw usageError('moe routed: --out DIR is required (where gate_logs_client.jsonl goes)');
  const lines = responsesToGateLines(p.positionals.flatMap((f) => readDocs(f)), experts);
  if (lines.length === 0) throw new CliError('no choice carries routed_experts: start vLLM with --enable-return-routed-experts and send non-streaming requests');
  const file = writeClientGateLog(opt.str(p, 'out')!, lines);
  process.stdout.write(`${file}: ${lines.length} gate-log lines (${new Set(lines.map((l) => l.step)).size} requests × ${new Set(lines.map((l) => l.layer)).size} layers)\n`);
  return 0;
}
