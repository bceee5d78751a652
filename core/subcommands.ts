// Command groups (`servelab sim …`, `servelab moe …`): the aligned subcommand list of a group's
// help, and the one way a group picks its subcommand, answers --help and names an unknown one.
import { ExitCode, choiceList, usageError } from './errors.ts';

/** `  name   summary` lines, names padded to the longest. */
export function subcommandLines(subs: Record<string, { summary: string }>): string[] {
  const w = Math.max(...Object.keys(subs).map((k) => k.length));
  return Object.entries(subs).map(([k, s]) => `  ${k.padEnd(w)}  ${s.summary}`);
}

export type Picked<E> = { kind: 'help'; code: number } | { kind: 'sub'; entry: E; rest: string[] };

/**
 * The subcommand `argv` names. No name asks for help with exit 2 (usage), `--help`/`-h` (and `help`
 * where `helpWord`) with exit 0; an unknown name is a usage error listing the valid ones.
 */
export function pickSubcommand<E>(group: string, subs: Record<string, E>, argv: string[], opts: { helpWord?: boolean } = {}): Picked<E> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || (opts.helpWord !== false && name === 'help')) return { kind: 'help', code: name ? ExitCode.ok : ExitCode.usage };
  const entry = Object.hasOwn(subs, name) ? subs[name] : undefined;
  if (!entry) throw usageError(`${group}: unknown subcommand: ${choiceList(name, Object.keys(subs))}`);
  return { kind: 'sub', entry, rest };
}
