// The one error type of servelab and its exit codes. Messages say what to fix: they start
// with the file or field, give the line where there is one, and list the valid choices.

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  threshold: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  /** Extra lines printed after the message (e.g. the views available, a log tail). */
  readonly details: readonly string[];

  constructor(message: string, exitCode: ExitCode = ExitCode.failure, details: readonly string[] = []) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** Bad flags, unknown choices, missing arguments: exit code 2. */
export function usageError(message: string, details: readonly string[] = []): CliError {
  return new CliError(message, ExitCode.usage, details);
}

/** `where: field: problem`, the shape of every input error (where = `file:line`). */
export function inputError(where: string, field: string | undefined, problem: string): CliError {
  return new CliError(field ? `${where}: ${field}: ${problem}` : `${where}: ${problem}`);
}

/** "expected one of a, b, c" with a did-you-mean when one choice is close. */
export function choiceList(value: string, choices: readonly string[]): string {
  const close = nearest(value, choices);
  const hint = close ? ` (did you mean '${close}'?)` : '';
  return `'${value}' is not one of ${choices.map((c) => `'${c}'`).join(', ')}${hint}`;
}

export function nearest(value: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const choice of choices) {
    const d = editDistance(value.toLowerCase(), choice.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = choice;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(value.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const FS_CODES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory (give a file name)',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EEXIST: 'already exists',
};

/**
 * A file-system error from Node (a path the user gave is a folder, missing, read-only, …):
 * `PATH: problem (CODE)`, not an internal error with a stack. Undefined for anything else.
 */
export function fileSystemProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  const target = e.syscall === 'rename' && e.dest ? e.dest : e.path;
  if (!target) return undefined;
  const what = FS_CODES[e.code];
  return what ? `${target}: ${what} (${e.code})` : `${target}: ${e.message}`;
}
