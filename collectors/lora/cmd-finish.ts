// `servelab lora finish RUN --status complete|incomplete|failed`: the pipeline's last word on a
// run (manifest status, servers), written atomically through core/run.ts.
import fs from 'node:fs';
import path from 'node:path';
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError, ExitCode } from '../../core/errors.ts';
import { createRun } from '../../core/run.ts';
import { RUN_STATUS } from '../../core/schema.ts';

export const spec: CommandSpec = {
  name: 'lora finish',
  summary: 'record the final status of an experiment run',
  options: {
    status: { type: 'string', help: 'final status', choices: RUN_STATUS.filter((s) => s !== 'running'), default: 'complete' },
    error: { type: 'string', help: 'why the run stopped or failed' },
    servers: { type: 'string', help: 'JSON of the servers used (launch commands)', metavar: 'JSON' },
  },
  positionals: [{ name: 'run-dir', help: 'the run folder', required: true }],
  examples: ['servelab lora finish data/runs/lora/r1 --status complete'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const dir = p.positionals[0]!;
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new CliError(`${dir}: not a run folder (no manifest.json)`, ExitCode.usage);
  const h = createRun({ experiment: 'lora', dir, resume: true });
  const servers = opt.str(p, 'servers');
  let parsed: unknown;
  if (servers) {
    try {
      parsed = JSON.parse(servers);
    } catch (e) {
      throw new CliError(`--servers: not JSON (${(e as Error).message})`, ExitCode.usage);
    }
  }
  // The servers given join those the run already lists (each sweep step adds its own), one entry per name.
  const given = Array.isArray(parsed) ? (parsed as { name?: string }[]) : [];
  const names = new Set(given.map((s) => s.name));
  const kept = (Array.isArray(h.manifest.servers) ? (h.manifest.servers as { name?: string }[]) : []).filter((s) => !names.has(s.name));
  h.updateManifest({ status: opt.str(p, 'status') as 'complete', finished_unix_ms: Date.now(), error: opt.str(p, 'error') ?? null, ...(parsed ? { servers: [...given, ...kept] as never } : {}) });
  return ExitCode.ok;
}
