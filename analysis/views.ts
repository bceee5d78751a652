// The catalog's derived views (analysis/views/<name>.sql): per-request metrics computed once in
// SQL, which stages, queries and `servelab sql` select from instead of repeating the formulas.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, choiceList } from '../core/errors.ts';
import { TABLE_NAMES, isTableName, type TableName } from '../core/schema.ts';

export const VIEW_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');

export interface ViewDef {
  name: string;
  file: string;
  /** Contract tables the view reads (its freshness inputs, for stages that read it). */
  inputs: TableName[];
  sql: string;
}

/** Parses a view file: a header comment with `-- inputs: t1, t2`, then one SELECT over contract tables. */
export function parseView(file: string, text: string): ViewDef {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^--\s?inputs:/.test(l.trim()));
  if (at < 0) throw new CliError(`${file}:1: header: missing '-- inputs: …' line (a view opens with inputs, grain, formulas, units)`);
  const inputs = lines[at]!.replace(/^\s*--\s?inputs:/, '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of inputs) if (!isTableName(t)) throw new CliError(`${file}:${at + 1}: inputs: ${choiceList(t, TABLE_NAMES)} (a view reads contract tables only)`);
  return { name: path.basename(file, '.sql'), file, inputs: inputs as TableName[], sql: text.replace(/;\s*$/, '').trimEnd() };
}

let cached: ViewDef[] | undefined;

/** The views, by file name order (each reads contract tables only, so any order works). */
export function catalogViews(): ViewDef[] {
  cached ??= fs
    .readdirSync(VIEW_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseView(path.join(VIEW_DIR, f), fs.readFileSync(path.join(VIEW_DIR, f), 'utf8')));
  return cached;
}

export function viewNamed(name: string): ViewDef | undefined {
  return catalogViews().find((v) => v.name === name);
}
