// Starting and stopping a server process: log capture to raw/server-<name>.log, the readiness
// wait of its kind, a timeout that reports the exit code's meaning and error-looking log lines.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CliError } from '../../core/errors.ts';
import { serverCommand } from './commands.ts';
import { commandText, type LauncherSpec, type ServerCommand } from './types.ts';

export interface LaunchEffects {
  spawn: (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess;
  fetch: (url: string, init?: { signal?: AbortSignal }) => Promise<{ status: number }>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  log: (line: string) => void;
}

export const defaultEffects: LaunchEffects = {
  spawn: (cmd, args, opts) => nodeSpawn(cmd, args, opts),
  fetch: (url, init) => fetch(url, init),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => performance.now(),
  log: (line) => process.stderr.write(`${line}\n`),
};

export interface StartOptions {
  /** Folder for server-<name>.log (a run's raw/); none: the output is kept in memory only. */
  logDir?: string;
  /** How long to wait for readiness (default 10 min for GPU servers, 30 s for sim/external). */
  timeoutMs?: number;
  /** SIGTERM → SIGKILL grace on stop (default 10 s). */
  graceMs?: number;
  pollMs?: number;
  effects?: Partial<LaunchEffects>;
}

export interface RunningServer {
  name: string;
  kind: LauncherSpec['kind'];
  url: string;
  metricsUrl: string | null;
  pid: number | null;
  logFile: string | null;
  /** The command line as text (env first). */
  command: string;
  /** SIGTERM to the process group, SIGKILL after the grace; resolves with how it ended. */
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

const ERROR_LINE = /error|exception|traceback|fatal|failed|panic|out of memory|oom|killed|cuda|errno|refused|denied|not found|no such/i;

/** Lines of a log that look like errors (the tail of them), else the last few lines. */
export function errorLines(log: string, max = 15): string[] {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const errs = lines.filter((l) => ERROR_LINE.test(l));
  return (errs.length ? errs : lines).slice(-max);
}

/** What a process's exit says, in words. */
export function exitMeaning(code: number | null, signal: string | null): string {
  if (signal) {
    const why: Record<string, string> = {
      SIGKILL: 'killed (SIGKILL; often the kernel OOM killer)',
      SIGTERM: 'terminated (SIGTERM)',
      SIGSEGV: 'crashed (segmentation fault)',
      SIGABRT: 'aborted (SIGABRT; a failed assertion or fatal error)',
      SIGINT: 'interrupted (SIGINT)',
    };
    return why[signal] ?? `killed by ${signal}`;
  }
  const why: Record<number, string> = {
    0: 'exited with code 0 before it became ready',
    1: 'exited with code 1 (a general error: see the log lines below)',
    2: 'exited with code 2 (bad command-line usage: check the flags)',
    126: 'exited with code 126 (the command is not executable)',
    127: 'exited with code 127 (command not found: is it installed and on PATH?)',
    134: 'exited with code 134 (aborted)',
    137: 'exited with code 137 (killed with SIGKILL; often out of memory)',
    139: 'exited with code 139 (segmentation fault)',
    143: 'exited with code 143 (terminated with SIGTERM)',
  };
  return why[code ?? -1] ?? `exited with code ${code}`;
}

type ProbeState = 'ready' | 'loading' | 'refused' | 'other';

async function probe(fx: LaunchEffects, url: string): Promise<{ state: ProbeState; detail: string }> {
  try {
    const r = await fx.fetch(url, { signal: AbortSignal.timeout(2000) });
    if (r.status === 200) return { state: 'ready', detail: '200' };
    if (r.status === 503) return { state: 'loading', detail: '503 (loading)' };
    return { state: 'other', detail: `HTTP ${r.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const code = e.cause?.code;
    if (code === 'ECONNREFUSED') return { state: 'refused', detail: 'connection refused' };
    return { state: 'other', detail: code ?? e.cause?.message ?? `${e.name}: ${e.message}` };
  }
}

/** Starts a server and resolves once it is ready, or throws a CliError that says why not. */
export async function startServer(spec: LauncherSpec, opts: StartOptions = {}): Promise<RunningServer> {
  const fx = { ...defaultEffects, ...opts.effects };
  const c = serverCommand(spec);
  const command = commandText(c);
  const quick = spec.kind === 'sim' || spec.kind === 'external';
  const timeoutMs = opts.timeoutMs ?? (quick ? 30_000 : 600_000);
  const pollMs = opts.pollMs ?? 250;
  const t0 = fx.now();

  if (c.cmd === null) {
    const url = c.baseUrl!;
    let last = '';
    while (fx.now() - t0 < timeoutMs) {
      const p = await probe(fx, url + c.readiness.path);
      if (p.state === 'ready') return external(spec.name, url, c, command);
      last = p.detail;
      await fx.sleep(pollMs);
    }
    throw new CliError(`server ${spec.name}: ${url}${c.readiness.path} did not answer 200 within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
  }

  const logFile = opts.logDir ? path.join(opts.logDir, `server-${spec.name}.log`) : null;
  if (logFile) fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logStream = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
  logStream?.write(`# ${new Date().toISOString()} ${command}\n`);
  let tail = '';
  const keep = (chunk: Buffer | string) => {
    tail = (tail + chunk.toString()).slice(-64 * 1024);
    logStream?.write(chunk);
  };
  const child = fx.spawn(c.cmd, c.args, { env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const entry = { name: spec.name, pid: child.pid ?? null, stop: () => stop() };
  started.add(entry);
  child.once('exit', () => started.delete(entry));
  ensureExitHook();
  let listening: string | null = c.baseUrl;
  let stdoutText = '';
  child.stdout?.on('data', (d: Buffer) => {
    keep(d);
    if (c.readiness.kind === 'listening-line' && !listening) {
      stdoutText += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdoutText);
      if (m) listening = m[1]!.replace(/\/+$/, '');
    }
  });
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: string | null } | null = null;
  let spawnError: Error | null = null;
  const exitPromise = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      exited = { code: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 127 : 126, signal: null };
      resolve(exited);
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const stop = async (): Promise<{ code: number | null; signal: string | null }> => {
    if (!exited && child.pid) {
      signalGroup(child.pid, 'SIGTERM');
      const grace = opts.graceMs ?? 10_000;
      const timer = setTimeout(() => child.pid && !exited && signalGroup(child.pid, 'SIGKILL'), grace);
      const r = await exitPromise;
      clearTimeout(timer);
      await new Promise<void>((res) => (logStream ? logStream.end(res) : res()));
      return r;
    }
    await new Promise<void>((res) => (logStream && !logStream.closed ? logStream.end(res) : res()));
    return exited ?? { code: null, signal: null };
  };
  const failure = (head: string): CliError => {
    const lines = errorLines(tail);
    const details = [
      `command: ${command}`,
      ...(logFile ? [`log: ${logFile}`] : []),
      ...(spawnError ? [`spawn: ${(spawnError as Error).message}`] : []),
      ...(lines.length ? ['log lines:', ...lines.map((l) => `  ${l}`)] : ['(the server wrote nothing)']),
    ];
    return new CliError(head, undefined, details);
  };

  let last = 'not started';
  while (fx.now() - t0 < timeoutMs) {
    if (exited) {
      const e = exited as { code: number | null; signal: string | null };
      await stop();
      throw failure(`server ${spec.name} ${exitMeaning(e.code, e.signal)}`);
    }
    if (listening) {
      const p = await probe(fx, listening + c.readiness.path);
      if (p.state === 'ready') {
        const url = listening;
        return { name: spec.name, kind: spec.kind, url, metricsUrl: c.metricsPath ? url + c.metricsPath : null, pid: child.pid ?? null, logFile, command, stop };
      }
      last = p.detail;
    } else last = 'no `listening on` line yet';
    await Promise.race([fx.sleep(pollMs), exitPromise]);
  }
  await stop();
  throw failure(`server ${spec.name} did not become healthy within ${Math.round(timeoutMs / 1000)} s (last: ${last}); it was stopped`);
}

function external(name: string, url: string, c: ServerCommand, command: string): RunningServer {
  return {
    name,
    kind: 'external',
    url,
    metricsUrl: c.metricsPath ? url + c.metricsPath : null,
    pid: null,
    logFile: null,
    command: command || url,
    stop: async () => ({ code: null, signal: null }),
  };
}

// Servers run in their own process group (detached), so a signal to the process that started
// them does not reach them: it has to stop them itself, or they outlive it.
const started = new Set<{ name: string; pid: number | null; stop(): Promise<unknown> }>();
let exitHooked = false;

/** On any exit (process.exit included), SIGTERM the groups of servers still running: nothing is left behind. */
function ensureExitHook(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const s of started) if (s.pid) signalGroup(s.pid, 'SIGTERM');
  });
}

/**
 * For pipelines: on SIGTERM, SIGINT or SIGHUP, stop every server this process started (SIGTERM to
 * each group, SIGKILL after its grace), then run `cleanup` (e.g. mark the run incomplete) and exit
 * 128 + the signal's number. A second signal kills the servers' groups at once and exits.
 * Returns a function that removes the handlers.
 */
export function stopServersOnSignal(cleanup?: (sig: NodeJS.Signals) => Promise<void> | void, log = (line: string) => process.stderr.write(`${line}\n`)): () => void {
  let stopping = false;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      for (const s of started) if (s.pid) signalGroup(s.pid, 'SIGKILL');
      process.exit(codes[sig] ?? 1);
    }
    stopping = true;
    log(`${sig}: stopping ${started.size} server(s): ${[...started].map((s) => s.name).join(', ') || 'none'}`);
    void (async () => {
      await Promise.allSettled([...started].map((s) => s.stop()));
      try {
        await cleanup?.(sig);
      } finally {
        process.exit(codes[sig] ?? 1);
      }
    })();
  };
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);
  return () => {
    for (const s of sigs) process.off(s, onSignal);
  };
}

/** Servers started by this process and still running (names), e.g. for a test. */
export const runningServers = (): string[] => [...started].map((s) => s.name);

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}
