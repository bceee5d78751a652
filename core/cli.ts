// The `servelab` command: a table of subcommands, each loaded only when called so that
// `servelab sim serve` starts fast. Every subcommand module exports `run(argv)`.
import { CliError, ExitCode, choiceList, fileSystemProblem, usageError } from './errors.ts';
import { subcommandLines } from './subcommands.ts';

export interface CommandModule {
  run(argv: string[]): Promise<number>;
}

interface Entry {
  summary: string;
  load: () => Promise<CommandModule>;
}

export const commands: Record<string, Entry> = {
  runs: { summary: 'list, show, finalize and repair runs (ls | show | finalize | repair)', load: () => import('../analysis/cmd-runs.ts') },
  sql: { summary: 'answer SQL over every run in the archive', load: () => import('../analysis/cmd-sql.ts') },
  stages: { summary: 'build the analysis stages of a run into derived/', load: () => import('../analysis/cmd-stages.ts') },
  report: { summary: 'render a run\'s self-contained HTML report', load: () => import('../reports/cmd-report.ts') },
  notebook: { summary: 'report notebooks: render | new | preview', load: () => import('../reports/cmd-notebook.ts') },
  bench: { summary: 'benchmark a server (vLLM bench serve compatible flags)', load: () => import('../collectors/cmd-bench.ts') },
  sim: { summary: 'the serving model: serve | run | predict | explain | fit | models | gpus', load: () => import('../simulator/cmd-sim.ts') },
  simulate: { summary: 'the seed scheduling simulator (FIFO, WeightedFIFO, SRPT, WSRPT)', load: () => import('../simulator/cmd-simulate.ts') },
  loadtest: { summary: 'the YAML load tester: users, mixed warfare, summary, analysis, Pushgateway', load: () => import('../collectors/loadtest/cmd-loadtest.ts') },
  moe: { summary: 'the MoE imbalance experiment: datasets | cv | ...', load: () => import('../collectors/moe/cmd-moe.ts') },
  lora: { summary: 'the LoRA HBM-budget experiment: serve | smoke | probe | sweep', load: () => import('../collectors/lora/cmd-lora.ts') },
  sweep: { summary: 'a rate sweep of one server: a rate list, automatic (GuideLLM), or --sla search', load: () => import('../collectors/sweep/cmd-sweep.ts') },
  imbalance: { summary: 'the round-robin GPU-imbalance experiment: generate | replay | warmup | balance', load: () => import('../collectors/imbalance/cmd-imbalance.ts') },
};

export function topHelp(): string {
  return [
    'servelab — experiments on LLM serving',
    '',
    'usage: servelab <command> [options]     (servelab <command> --help for its flags)',
    '',
    'Commands:',
    ...subcommandLines(commands),
    '',
    'Examples:',
    '  servelab sql "select endpoint, count(*) from requests group by 1" --data data/samples',
    '  servelab report data/samples/runs/latency/sample-001',
    '  servelab sim serve --preset moe-baseline --port 8000',
    '  npx zx pipelines/moe.mjs --quick',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      process.stdout.write(topHelp() + '\n');
      return name ? ExitCode.ok : ExitCode.usage;
    }
    if (name === '--version' || name === '-V') {
      const pkg = await import('../package.json', { with: { type: 'json' } });
      process.stdout.write(`${pkg.default.version}\n`);
      return ExitCode.ok;
    }
    const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!entry) throw usageError(`unknown command: ${choiceList(name, Object.keys(commands))}`);
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    return reportError(err);
  }
}

/**
 * `servelab … | head`: when the reader closes the pipe early, stop quietly with exit 0, as a
 * shell user expects, instead of an unhandled EPIPE with a stack.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout, exit: (code: number) => void = (c) => process.exit(c)): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    exit(ExitCode.ok);
  });
}

/** Prints an error the way every command does and returns its exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`servelab: ${err.message}\n`);
    for (const d of err.details) process.stderr.write(`  ${d}\n`);
    return err.exitCode;
  }
  const fsProblem = fileSystemProblem(err);
  if (fsProblem) {
    process.stderr.write(`servelab: ${fsProblem}\n`);
    return ExitCode.failure;
  }
  const e = err as Error;
  process.stderr.write(`servelab: internal error: ${e?.stack ?? String(err)}\n`);
  return ExitCode.failure;
}
