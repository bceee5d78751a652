// The two steps every experiment pipeline takes around its measurements, written once:
// `servelab <exp> init` creates (or reopens, with --resume) the run and prints its folder;
// `servelab <exp> finish RUN` records the final status, the servers used and extra counts.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../core/args.ts';
import { CliError, ExitCode } from '../core/errors.ts';
import { RunHandle, createRun } from '../core/run.ts';
import { readManifest } from '../analysis/runstore.ts';
import { RUN_STATUS } from '../core/schema.ts';

interface Step {
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}

function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`--${flag}: not JSON (${(e as Error).message})`, ExitCode.usage);
  }
}

/** `servelab <experiment> init`. */
export function initCommand(experiment: string, opts: { configHelp?: string; examples: string[] }): Step {
  const spec: CommandSpec = {
    name: `${experiment} init`,
    summary: 'create the experiment run (or reopen one to resume) and print its folder',
    options: {
      data: { type: 'string', help: 'archive folder holding runs/', default: process.env.SERVELAB_DATA ?? 'data', metavar: 'DIR' },
      'run-id': { type: 'string', help: 'run id (default: a new timestamped one)' },
      dir: { type: 'string', help: 'use this run folder (resume it when it exists)', metavar: 'DIR' },
      resume: { type: 'string', help: 'reopen this existing run folder (an error when it holds no run)', metavar: 'DIR' },
      config: { type: 'string', help: opts.configHelp ?? 'the pipeline settings as JSON', metavar: 'JSON', default: '{}' },
      command: { type: 'string', help: 'the command line that made the run' },
    },
    examples: opts.examples,
  };
  return {
    spec,
    async run(argv) {
      const p = parseOrHelp(spec, argv);
      if (!p) return ExitCode.ok;
      const config = parseJson('config', opt.str(p, 'config')!);
      const reopen = opt.str(p, 'resume');
      if (reopen !== undefined && opt.str(p, 'dir') !== undefined) throw new CliError('--resume and --dir: give one of them', ExitCode.usage);
      if (reopen !== undefined && !fs.existsSync(path.join(reopen, 'manifest.json'))) {
        throw new CliError(`--resume ${reopen}: not a run folder (no manifest.json); nothing was created`, ExitCode.usage, ['to start a new run, leave --resume out']);
      }
      const dir = reopen ?? opt.str(p, 'dir');
      const resume = Boolean(dir && fs.existsSync(path.join(dir, 'manifest.json')));
      const run = createRun({ experiment, dataDir: opt.str(p, 'data'), runId: opt.str(p, 'run-id'), dir, config, command: opt.str(p, 'command'), resume });
      process.stdout.write(`${path.resolve(run.dir)}\n`);
      return ExitCode.ok;
    },
  };
}

/**
 * `servelab <experiment> finish RUN`. The servers given join those the run already lists (a step
 * that started its own server, as a LoRA sweep value, has added it), one entry per name; `counts`
 * adds the experiment's own counts to the manifest's.
 */
export function finishCommand(experiment: string, opts: { counts?: (runDir: string) => Record<string, number> } = {}): Step {
  const spec: CommandSpec = {
    name: `${experiment} finish`,
    summary: 'record the final status of an experiment run',
    options: {
      status: { type: 'string', help: 'final status', choices: RUN_STATUS.filter((s) => s !== 'running'), default: 'complete' },
      error: { type: 'string', help: 'why the run stopped or failed' },
      servers: { type: 'string', help: 'JSON of the servers used (launch commands)', metavar: 'JSON' },
    },
    positionals: [{ name: 'run-dir', help: 'the run folder', required: true }],
    examples: [`servelab ${experiment} finish data/runs/${experiment}/r1 --status complete`],
  };
  return {
    spec,
    async run(argv) {
      const p = parseOrHelp(spec, argv);
      if (!p) return ExitCode.ok;
      const dir = p.positionals[0]!;
      if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new CliError(`${dir}: not a run folder (no manifest.json)`, ExitCode.usage);
      // The manifest as it is (no reopening: a finished or finalized run stays so, its writer's pid kept).
      const h = new RunHandle(dir, readManifest(dir), 0);
      const text = opt.str(p, 'servers');
      const given = text === undefined ? undefined : parseJson('servers', text);
      if (given !== undefined && !Array.isArray(given)) throw new CliError('--servers: expected a JSON array of server entries', ExitCode.usage);
      const names = new Set((given ?? []).map((s: { name?: string }) => s?.name));
      const kept = (Array.isArray(h.manifest.servers) ? (h.manifest.servers as { name?: string }[]) : []).filter((s) => !names.has(s?.name));
      h.updateManifest({
        status: opt.str(p, 'status') as 'complete',
        finished_unix_ms: Date.now(),
        error: opt.str(p, 'error') ?? null,
        ...(given ? { servers: [...given, ...kept] as never } : {}),
        ...(opts.counts ? { counts: { ...((h.manifest.counts as object | null) ?? {}), ...opts.counts(h.dir) } } : {}),
      });
      return ExitCode.ok;
    },
  };
}
