// `servelab lora rate RUN --prompt-regime R`: the arrival rate for the sweep, from the lora_rate
// stage (the highest probed rate that is OK at every probed HBM budget); prints it alone.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { CliError, ExitCode } from '../../core/errors.ts';
import { runStages } from '../../analysis/stages.ts';
import { resolveRun } from '../../analysis/runstore.ts';
import { queryStage, sqlString } from '../sweep/rate-sweep.ts';
import { REGIMES } from '../workloads/sharegpt.ts';

export const spec: CommandSpec = {
  name: 'lora rate',
  summary: 'print the highest probed arrival rate that is OK at every probed HBM budget (lora_rate stage)',
  options: {
    'prompt-regime': { type: 'string', help: 'regime', choices: Object.keys(REGIMES), default: 'short' },
  },
  positionals: [{ name: 'run', help: 'the run folder holding the probe', required: true }],
  examples: ['servelab lora rate data/runs/lora/20261205-021500-ab12 --prompt-regime long'],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const dir = resolveRun(p.positionals[0]!);
  await runStages({ runDir: dir, stages: ['lora_rate'], log: () => {} });
  const regime = opt.str(p, 'prompt-regime')!;
  const [row] = await queryStage(dir, 'lora_rate', `WHERE prompt_regime = ${sqlString(regime)}`, '');
  if (!row) throw new CliError(`${dir}: no probe of ${regime} prompts in this run (run servelab lora probe --run ${dir} --prompt-regime ${regime})`);
  if (!row.any_ok) process.stderr.write(`warning: no probed rate is OK at every budget for ${regime} prompts; using the lowest, ${row.picked_rate} req/s\n`);
  process.stdout.write(`${row.picked_rate}\n`);
  return ExitCode.ok;
}
