// Parses a report notebook (reports/NOTEBOOKS.md): YAML front matter, then Markdown parsed by
// markdown-it; fenced blocks whose info string is sql/vega-lite/table/include become cells, each
// with its 1-based line in the file (from the fence token's map).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt, { type MarkdownIt as MarkdownItType, type Token } from 'markdown-it';

import YAML from 'yaml';
import { CliError } from '../../core/errors.ts';

export type ParamValue = string | number | boolean;

export interface FrontMatter {
  title: string;
  /** Names of the runs a comparison reads (default: one run). */
  runs?: string[];
  params: Record<string, ParamValue>;
  /** For a shared section: what to show when its view is missing. */
  fallback?: string;
}

export type Cell =
  | { kind: 'sql'; name: string; sql: string; line: number; token: number }
  | { kind: 'vega-lite'; spec: Record<string, unknown>; data: string; line: number; token: number }
  | { kind: 'table'; name: string; options: TableOptions; line: number; token: number }
  | { kind: 'include'; file: string; when: string; line: number; token: number };

export interface TableOptions {
  columns?: string[];
  labels?: Record<string, string>;
  digits?: Record<string, number>;
  /** Rows shown before the rest collapse (default 20). */
  collapse?: number;
}

export interface Notebook {
  file: string;
  front: FrontMatter;
  /** markdown-it block tokens of the body. */
  tokens: Token[];
  cells: Cell[];
  /** Line of the body's first line in the file (after the front matter), 1-based. */
  bodyLine: number;
}

export const CELL_KINDS = ['sql', 'vega-lite', 'table', 'include'] as const;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function markdown(): MarkdownItType {
  // html: false: raw HTML in prose is shown as text, never run.
  return new MarkdownIt({ html: false, linkify: false, typographer: false });
}

/** Splits `---\nYAML\n---\n` off the top; returns the YAML text and the body's first line. */
function splitFrontMatter(text: string): { yaml: string | undefined; body: string; bodyLine: number } {
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { yaml: undefined, body: text, bodyLine: 1 };
  const bodyLine = m[0].split('\n').length - (m[0].endsWith('\n') ? 1 : 0) + 1;
  return { yaml: m[1], body: text.slice(m[0].length), bodyLine };
}

function parseFront(file: string, yaml: string | undefined, opts: { section?: boolean }): FrontMatter {
  if (yaml === undefined) {
    if (opts.section) return { title: '', params: {} };
    throw new CliError(`${file}:1: front matter: missing (a notebook opens with ---, title: …, ---)`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(yaml);
  } catch (err) {
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line ?? 0;
    throw new CliError(`${file}:${pos + 1}: front matter: ${(err as Error).message.split('\n')[0]}`);
  }
  const fm = (doc ?? {}) as Record<string, unknown>;
  const keys = ['title', 'runs', 'params', 'fallback'];
  for (const k of Object.keys(fm)) {
    if (!keys.includes(k)) throw new CliError(`${file}:${lineOf(yaml, k) + 1}: front matter: unknown key '${k}' (keys: ${keys.join(', ')})`);
  }
  if (!opts.section && (typeof fm.title !== 'string' || fm.title.trim() === '')) throw new CliError(`${file}:2: front matter: title: missing (a line 'title: …')`);
  const runs = fm.runs;
  if (runs !== undefined && (!Array.isArray(runs) || runs.length === 0 || !runs.every((r) => typeof r === 'string' && NAME_RE.test(r)))) {
    throw new CliError(`${file}:${lineOf(yaml, 'runs') + 1}: front matter: runs: a list of names (letters, digits, _), e.g. runs: [base, lora]`);
  }
  const params: Record<string, ParamValue> = {};
  const rawParams = fm.params ?? {};
  if (typeof rawParams !== 'object' || Array.isArray(rawParams)) throw new CliError(`${file}:${lineOf(yaml, 'params') + 1}: front matter: params: a map of name: default`);
  for (const [k, v] of Object.entries(rawParams as Record<string, unknown>)) {
    if (!NAME_RE.test(k)) throw new CliError(`${file}:${lineOf(yaml, k) + 1}: front matter: params: '${k}' is not a name (letters, digits, _)`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new CliError(`${file}:${lineOf(yaml, k) + 1}: front matter: params.${k}: a default must be a number, true/false or text`);
    }
    params[k] = v;
  }
  return { title: String(fm.title ?? ''), runs: runs as string[] | undefined, params, fallback: fm.fallback === undefined ? undefined : String(fm.fallback) };
}

/** The 0-based line of `key:` within the YAML (line 0 = the first YAML line, file line 2). */
function lineOf(yaml: string, key: string): number {
  const i = yaml.split('\n').findIndex((l) => new RegExp(`^\\s*${key.replace(/[^\w]/g, '\\$&')}\\s*:`).test(l));
  return Math.max(i, 0) + 1;
}

function parseSpec(file: string, line: number, body: string): Record<string, unknown> {
  let spec: unknown;
  try {
    spec = body.trimStart().startsWith('{') ? JSON.parse(body) : YAML.parse(body);
  } catch (err) {
    throw new CliError(`${file}:${line}: vega-lite cell: not JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw new CliError(`${file}:${line}: vega-lite cell: the spec must be an object`);
  return spec as Record<string, unknown>;
}

function parseTableOptions(file: string, line: number, body: string): TableOptions {
  if (body.trim() === '') return {};
  let o: unknown;
  try {
    o = YAML.parse(body);
  } catch (err) {
    throw new CliError(`${file}:${line}: table cell: options are not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const keys = ['columns', 'labels', 'digits', 'collapse'];
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new CliError(`${file}:${line}: table cell: options must be a map (${keys.join(', ')})`);
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new CliError(`${file}:${line}: table cell: unknown option '${k}' (options: ${keys.join(', ')})`);
  return o as TableOptions;
}

/** Parses the text of a notebook (or, with section, a shared section whose front matter is optional). */
export function parseNotebook(file: string, text: string, opts: { section?: boolean } = {}): Notebook {
  const { yaml, body, bodyLine } = splitFrontMatter(text);
  const front = parseFront(file, yaml, opts);
  const tokens = markdown().parse(body, {});
  const cells: Cell[] = [];
  const names = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (t.type !== 'fence') return;
    const [kind, ...args] = t.info.trim().split(/\s+/);
    if (!(CELL_KINDS as readonly string[]).includes(kind ?? '')) return; // an ordinary code block
    const line = bodyLine + (t.map?.[0] ?? 0);
    const need = (what: string) => {
      const v = args[0];
      if (!v) throw new CliError(`${file}:${line}: ${kind} cell: missing ${what} (\`\`\`${kind} ${what.toUpperCase()})`);
      if (kind !== 'include' && !NAME_RE.test(v)) throw new CliError(`${file}:${line}: ${kind} cell: '${v}' is not a name (letters, digits, _)`);
      return v;
    };
    switch (kind) {
      case 'sql': {
        const name = need('name');
        if (names.has(name)) throw new CliError(`${file}:${line}: sql cell: '${name}' is already the name of the cell at line ${names.get(name)}`);
        names.set(name, line);
        cells.push({ kind: 'sql', name, sql: t.content, line, token: i });
        break;
      }
      case 'vega-lite': {
        const spec = parseSpec(file, line, t.content);
        const data = (spec.data as { name?: unknown } | undefined)?.name;
        if (typeof data !== 'string') throw new CliError(`${file}:${line}: vega-lite cell: data: give the SQL cell to draw, e.g. data: {name: my_cell}`);
        cells.push({ kind: 'vega-lite', spec, data, line, token: i });
        break;
      }
      case 'table':
        cells.push({ kind: 'table', name: need('name'), options: parseTableOptions(file, line, t.content), line, token: i });
        break;
      case 'include': {
        const f = need('file');
        const when = args.slice(1).find((a) => a.startsWith('when='))?.slice(5);
        if (!when) throw new CliError(`${file}:${line}: include cell: missing when=VIEW (the view whose rows the section needs)`);
        cells.push({ kind: 'include', file: f, when, line, token: i });
        break;
      }
    }
  });
  return { file, front, tokens, cells, bodyLine };
}

export function readNotebook(file: string, opts: { section?: boolean } = {}): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such notebook' : (err as Error).message}`, undefined, code === 'ENOENT' ? [`built-in notebooks: ${builtinNotebooks().join(', ')} (in ${REPORTS_DIR})`] : []);
  }
  return parseNotebook(file, text, opts);
}

export const REPORTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Names of the built-in notebooks (reports/<name>.md, the format page excluded). */
export function builtinNotebooks(): string[] {
  return fs
    .readdirSync(REPORTS_DIR)
    .filter((f) => f.endsWith('.md') && f !== 'NOTEBOOKS.md' && f !== 'README.md')
    .map((f) => f.slice(0, -3))
    .sort();
}
