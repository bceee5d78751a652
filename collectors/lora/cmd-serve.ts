// `servelab lora serve`: the old single-engine server's flags and defaults; starts the server
// (simulated by default), prints where it listens, and stops it on Ctrl-C/SIGTERM.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { ExitCode, usageError } from '../../core/errors.ts';
import { commandText, serverCommand, startServer } from '../launchers/index.ts';
import { serverKnobs, serverOptions } from './server-flags.ts';
import { loraServerSpec } from './servers.ts';

export const spec: CommandSpec = {
  name: 'lora serve',
  summary: 'a single-engine server with N LoRA adapters, M resident in HBM: /generate, /health, /swap_stats, /reset_swap_stats (sim, generate) or vLLM\'s OpenAI API with adapters lora-0 … lora-(N−1)',
  description:
    'Adapters 0 … M−1 are resident in GPU HBM at start; the others live on the CPU and swap in when asked for. ' +
    'vLLM: --enable-lora --max-loras M --max-cpu-loras N --max-lora-rank R and N dummy PEFT adapters written under --adapter-dir.',
  options: {
    'total-loras': { type: 'integer', help: 'total LoRA adapters available (CPU side) (required)', metavar: 'N' },
    'gpu-loras': { type: 'integer', help: 'LoRA adapters preloaded into GPU HBM (required)', metavar: 'M' },
    port: { type: 'integer', help: 'server port', default: 8000, min: 0 },
    ...serverOptions,
    'dry-run': { type: 'boolean', help: 'print the server\'s command line and exit (writes nothing)' },
  },
  examples: [
    'servelab lora serve --model facebook/opt-125m --total-loras 128 --gpu-loras 2 --port 8000 --use-dummy-weights',
    'servelab lora serve --server vllm --model meta-llama/Llama-2-7b-hf --total-loras 128 --gpu-loras 8 --dry-run',
    "servelab lora serve --server generate --command 'python run_server_single_engine.py' --total-loras 128 --gpu-loras 2",
  ],
};

export async function run(argv: string[]): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  for (const f of ['total-loras', 'gpu-loras']) if (opt.num(p, f) === undefined) throw usageError(`lora serve: --${f} is required`, ['e.g. servelab lora serve --total-loras 128 --gpu-loras 2']);
  const knobs = serverKnobs(p, opt.num(p, 'total-loras')!, opt.num(p, 'gpu-loras')!, opt.num(p, 'port')!);
  if (opt.bool(p, 'dry-run')) {
    process.stdout.write(commandText(serverCommand(loraServerSpec(knobs, { write: false }))) + '\n');
    return ExitCode.ok;
  }
  const server = await startServer(loraServerSpec(knobs, { name: 'lora' }));
  process.stdout.write(`listening on ${server.url}\n`);
  process.stderr.write(`${server.command}\n(Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const end = await server.stop();
  process.stderr.write(`stopped (${end.signal ?? `code ${end.code}`})\n`);
  return ExitCode.ok;
}
