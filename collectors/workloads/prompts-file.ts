// A prompts file to replay: one prompt per line, or JSONL with a `prompt` field (optional
// `max_tokens`, `adapter`/`model_id`, `gpu`). A bad line fails with file:line, or with
// --lenient is skipped with a warning; blank lines are ignored.
import fs from 'node:fs';
import { inputError } from '../../core/errors.ts';
import type { WorkItem } from '../engine.ts';
import { makeItem } from './common.ts';

export interface PromptsFileOptions {
  path: string;
  maxTokens?: number | null;
  ignoreEos?: boolean;
  lenient?: boolean;
  warn?: (msg: string) => void;
  tags?: Record<string, unknown>;
  limit?: number;
}

export function loadPromptsFile(o: PromptsFileOptions): WorkItem[] {
  const lines = fs.readFileSync(o.path, 'utf8').split('\n');
  const jsonl = o.path.endsWith('.jsonl') || lines.find((l) => l.trim() !== '')?.trimStart().startsWith('{');
  const out: WorkItem[] = [];
  for (let i = 0; i < lines.length && out.length < (o.limit ?? Infinity); i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const where = `${o.path}:${i + 1}`;
    if (!jsonl) {
      out.push(makeItem(raw, { dataset: o.path, maxTokens: o.maxTokens, ignoreEos: o.ignoreEos, tags: o.tags }));
      continue;
    }
    let problem: string | undefined;
    let rec: Record<string, unknown> = {};
    try {
      rec = JSON.parse(raw) as Record<string, unknown>;
      if (typeof rec.prompt !== 'string') problem = 'prompt: missing or not a string';
    } catch (e) {
      problem = `not JSON (${(e as Error).message})`;
    }
    if (problem) {
      if (!o.lenient) throw inputError(where, undefined, problem);
      o.warn?.(`${where}: ${problem} (skipped, --lenient)`);
      continue;
    }
    const adapter = rec.adapter ?? rec.model_id;
    out.push(
      makeItem(rec.prompt as string, {
        dataset: o.path,
        maxTokens: typeof rec.max_tokens === 'number' ? rec.max_tokens : o.maxTokens,
        ignoreEos: o.ignoreEos,
        adapter: adapter == null ? null : String(adapter),
        tags: { ...o.tags, ...(typeof rec.gpu === 'number' ? { gpu: rec.gpu } : {}) },
      }),
    );
  }
  if (out.length === 0) throw inputError(o.path, undefined, 'no prompt in the file');
  return out;
}
