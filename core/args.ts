// Declarative flag parsing for every servelab subcommand: one spec gives the parser, the
// validation (types, choices, did-you-mean) and the --help text with its examples.
import { choiceList, nearest, usageError } from './errors.ts';

export type OptionType = 'string' | 'number' | 'integer' | 'boolean' | 'list';

export interface OptionSpec {
  type: OptionType;
  help: string;
  short?: string;
  default?: string | number | boolean | readonly string[];
  choices?: readonly string[];
  /** For 'list': values may follow the flag space-separated until the next flag (argparse nargs='+'). */
  variadic?: boolean;
  /** Shown as the value's name in --help. */
  metavar?: string;
  /** A number flag must be ≥ this. */
  min?: number;
  /** A number flag must be > this (e.g. 0 for a timeout or an interval). */
  above?: number;
  /** A number flag must be ≤ this (bounds what would exhaust memory or mean nothing). */
  max?: number;
}

export interface PositionalSpec {
  name: string;
  help: string;
  required?: boolean;
  variadic?: boolean;
}

export interface CommandSpec {
  /** Full command path, e.g. 'runs ls'. */
  name: string;
  summary: string;
  description?: string;
  options: Record<string, OptionSpec>;
  positionals?: readonly PositionalSpec[];
  examples: readonly string[];
}

export type OptionValue = string | number | boolean | string[] | undefined;

export interface Parsed {
  /** Options by their flag name without dashes (kebab-case, as on the command line). */
  opts: Record<string, OptionValue>;
  positionals: string[];
  help: boolean;
}

/** Parses argv against a spec. Throws a usage error (exit 2) naming the flag and valid choices. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const opts: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(spec.options)) if (o.short) byShort.set(o.short, name);
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const s = arg.slice(1, 2);
      const long = byShort.get(s);
      if (!long) throw unknownFlag(spec, arg);
      name = long;
      inline = arg.length > 2 ? arg.slice(2) : undefined;
    }
    let o = spec.options[name];
    if (!o && name.startsWith('no-') && spec.options[name.slice(3)]?.type === 'boolean') {
      opts[name.slice(3)] = false;
      continue;
    }
    if (!o) throw unknownFlag(spec, `--${name}`);
    if (o.type === 'boolean') {
      opts[name] = inline === undefined ? true : parseBool(name, inline);
      continue;
    }
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw usageError(`--${name}: needs a value (${o.metavar ?? o.type})`);
      }
      values.push(next);
      i++;
    }
    if (o.type === 'list' && o.variadic) {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) values.push(argv[++i]!);
    }
    opts[name] = convert(name, o, values, opts[name]);
  }

  for (const [name, o] of Object.entries(spec.options)) {
    if (opts[name] === undefined && o.default !== undefined) {
      opts[name] = Array.isArray(o.default) ? [...o.default] : (o.default as OptionValue);
    }
  }
  if (!help) checkPositionals(spec, positionals);
  return { opts, positionals, help };
}

function convert(name: string, o: OptionSpec, values: string[], previous: OptionValue): OptionValue {
  switch (o.type) {
    case 'string':
      checkChoice(name, o, values[0]!);
      return values[0]!;
    case 'number':
    case 'integer': {
      const raw = values[0]!;
      const n = raw === 'inf' || raw === 'Infinity' ? Infinity : Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) throw usageError(`--${name}: '${raw}' is not a number`);
      if (o.type === 'integer' && Number.isFinite(n) && !Number.isInteger(n)) {
        throw usageError(`--${name}: '${raw}' is not a whole number`);
      }
      if (o.min !== undefined && n < o.min) throw usageError(`--${name}: ${raw} is below the minimum ${o.min}`);
      if (o.above !== undefined && !(n > o.above)) throw usageError(`--${name}: ${raw} must be greater than ${o.above}`);
      if (o.max !== undefined && n > o.max) throw usageError(`--${name}: ${raw} is above the maximum ${o.max}`);
      if (o.type === 'integer' && Number.isFinite(n) && !Number.isSafeInteger(n)) throw usageError(`--${name}: ${raw} is too large for a whole number`);
      return n;
    }
    case 'list': {
      const items = values.flatMap((v) => (o.variadic ? [v] : v.split(',')).map((s) => s.trim())).filter((s) => s !== '');
      for (const item of items) checkChoice(name, o, item);
      return [...(Array.isArray(previous) ? previous : []), ...items];
    }
    case 'boolean':
      return true;
  }
}

function checkChoice(name: string, o: OptionSpec, value: string): void {
  if (o.choices && !o.choices.includes(value)) throw usageError(`--${name}: ${choiceList(value, o.choices)}`);
}

function parseBool(name: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw usageError(`--${name}: '${v}' is not true or false`);
}

function unknownFlag(spec: CommandSpec, flag: string) {
  const names = Object.keys(spec.options).map((n) => `--${n}`);
  const close = nearest(flag, names);
  return usageError(
    `${spec.name}: unknown flag ${flag}${close ? ` (did you mean ${close}?)` : ''}`,
    [`valid flags: ${[...names, '--help'].join(' ')}`],
  );
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const specs = spec.positionals ?? [];
  const required = specs.filter((p) => p.required).length;
  if (positionals.length < required) {
    const missing = specs.filter((p) => p.required).slice(positionals.length).map((p) => p.name.toUpperCase());
    throw usageError(`${spec.name}: missing ${missing.join(' ')}`, [`usage: ${usageLine(spec)}`]);
  }
  const variadic = specs.some((p) => p.variadic);
  if (!variadic && positionals.length > specs.length) {
    throw usageError(`${spec.name}: unexpected argument '${positionals[specs.length]}'`, [`usage: ${usageLine(spec)}`]);
  }
}

export function usageLine(spec: CommandSpec): string {
  const pos = (spec.positionals ?? [])
    .map((p) => {
      const n = p.name.toUpperCase() + (p.variadic ? '...' : '');
      return p.required ? n : `[${n}]`;
    })
    .join(' ');
  return `servelab ${spec.name}${pos ? ` ${pos}` : ''} [options]`;
}

/** Column where the help text of arguments and options starts (longer flags push their own text right). */
const HELP_COLUMN = 30;

export function helpText(spec: CommandSpec): string {
  const lines = [`${usageLine(spec)}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  const row = (left: string, text: string) => `  ${left.padEnd(HELP_COLUMN)} ${text}`;
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(row(p.name.toUpperCase(), p.help));
  }
  lines.push('', 'Options:');
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'boolean' ? '' : ` ${o.metavar ?? (o.type === 'list' ? 'A,B' : o.type.toUpperCase())}`}`;
    let text = o.help;
    if (o.choices) text += ` (${o.choices.join('|')})`;
    if (o.default !== undefined && o.default !== false) text += ` [default: ${Array.isArray(o.default) ? o.default.join(' ') : o.default === Infinity ? 'inf' : String(o.default)}]`;
    // A flag too long for the column gets its text on the next line, at the column.
    if (flag.length >= HELP_COLUMN) lines.push(`  ${flag}`, row('', text));
    else lines.push(row(flag, text));
  }
  lines.push(row('    --help', 'show this help'));
  if (spec.examples.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n');
}

/**
 * Parses argv; on --help prints the command's help (with its examples) and returns null, so a
 * command opens with `const p = parseOrHelp(spec, argv); if (!p) return ExitCode.ok;`.
 */
export function parseOrHelp(spec: CommandSpec, argv: readonly string[], out: (text: string) => void = (t) => process.stdout.write(t + '\n')): Parsed | null {
  const p = parseArgs(spec, argv);
  if (!p.help) return p;
  out(helpText(spec));
  return null;
}

/** Typed accessors so command code reads flags without casts. */
export const opt = {
  str: (p: Parsed, name: string): string | undefined => p.opts[name] as string | undefined,
  num: (p: Parsed, name: string): number | undefined => p.opts[name] as number | undefined,
  bool: (p: Parsed, name: string): boolean => p.opts[name] === true,
  list: (p: Parsed, name: string): string[] => (p.opts[name] as string[] | undefined) ?? [],
};
