// `servelab moe finish RUN --status complete|incomplete|failed`: the pipeline's last word on a
// run (manifest status, servers, counts), written atomically through core/run.ts.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { RUN_STATUS } from '../../core/schema.ts';
import { openRunHandle } from './ingest.ts';
import { readProgress } from './progress.ts';

export const spec: CommandSpec = {
  name: 'moe finish',
  summary: 'record the final status of an experiment run',
  options: {
    status: { type: 'string', help: 'final status', choices: RUN_STATUS.filter((s) => s !== 'running'), default: 'complete' },
    error: { type: 'string', help: 'why the run stopped or failed' },
    servers: { type: 'string', help: 'JSON of the servers used (launch commands)', metavar: 'JSON' },
  },
  positionals: [{ name: 'run-dir', help: 'the run folder', required: true }],
  examples: ['servelab moe finish data/runs/moe/r1 --status complete'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return 0;
  const h = openRunHandle(p.positionals[0]!);
  const progress = [...readProgress(h.dir).values()];
  const servers = opt.str(p, 'servers');
  h.updateManifest({
    status: opt.str(p, 'status') as 'complete',
    finished_unix_ms: Date.now(),
    error: opt.str(p, 'error') ?? null,
    ...(servers ? { servers: JSON.parse(servers) } : {}),
    counts: {
      ...((h.manifest.counts as object | null) ?? {}),
      datasets_ok: progress.filter((e) => e.status === 'ok').length,
      datasets_failed: progress.filter((e) => e.status === 'failed').length,
    },
  });
  return 0;
}
