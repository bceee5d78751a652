// `servelab imbalance finish RUN --status complete|incomplete|failed`: the pipeline's last word on
// a run (manifest status, servers, counts), written atomically through core/run.ts.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { RUN_STATUS } from '../../core/schema.ts';
import { openRunHandle } from '../moe/ingest.ts';

export const spec: CommandSpec = {
  name: 'imbalance finish',
  summary: 'record the final status of an experiment run',
  options: {
    status: { type: 'string', help: 'final status', choices: RUN_STATUS.filter((s) => s !== 'running'), default: 'complete' },
    error: { type: 'string', help: 'why the run stopped or failed' },
    servers: { type: 'string', help: 'JSON of the servers used (launch commands)', metavar: 'JSON' },
  },
  positionals: [{ name: 'run-dir', help: 'the run folder', required: true }],
  examples: ['servelab imbalance finish data/runs/imbalance/r1 --status complete'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const h = openRunHandle(p.positionals[0]!);
  const servers = opt.str(p, 'servers');
  let parsed: unknown;
  try {
    parsed = servers ? JSON.parse(servers) : undefined;
  } catch (e) {
    throw new CliError(`--servers: not JSON (${(e as Error).message})`, 2);
  }
  h.updateManifest({ status: opt.str(p, 'status') as 'complete', finished_unix_ms: Date.now(), error: opt.str(p, 'error') ?? null, ...(parsed ? { servers: parsed as never } : {}) });
  return 0;
}
