// `servelab sim <sub>`: the serving model's commands. explain, fit, models, gpus and
// calibrate live here; serve and run load their own modules.
import { type CommandSpec, opt, parseOrHelp } from '../core/args.ts';
import { pickSubcommand, subcommandLines } from '../core/subcommands.ts';
import { formatTable } from '../core/output.ts';
import { GPUS, gpuNames, getGpu, loadGpuFile } from './hardware.ts';
import { PRESETS, derive, getModel, loadModelConfig } from './models.ts';

type Out = (s: string) => void;
const stdout: Out = (s) => process.stdout.write(s + '\n');

const SUBCOMMANDS: Record<string, { summary: string; run: (argv: string[], out: Out) => Promise<number> }> = {
  serve: { summary: 'the simulated server (vLLM / llama.cpp / /generate APIs) on the real clock', run: async (a) => (await import('./server/cmd-serve.ts')).run(a) },
  run: { summary: 'an offline simulation on the virtual clock, written as a run', run: async (a) => (await import('./cmd-sim-run.ts')).run(a) },
  predict: { summary: "replay a measured run's requests through the serving model (predicted vs measured)", run: async (a) => (await import('./cmd-sim-predict.ts')).run(a) },
  explain: { summary: 'price one step and show each operation, the breakdown and the bottleneck', run: async (a, o) => (await import('./cmd-sim-explain.ts')).run(a, o) },
  fit: { summary: 'fit the cost-model coefficients to measured step or request samples (NNLS)', run: async (a, o) => (await import('./cmd-sim-fit.ts')).run(a, o) },
  models: { summary: 'the model presets with derived parameters, KV bytes per token and valid TP', run: runModels },
  gpus: { summary: 'the GPU specs (add your own with --gpu-file)', run: runGpus },
  calibrate: { summary: 're-derive the H100 coefficients from kernel timings (h100-kernels.csv)', run: async (a, o) => (await import('./cmd-sim-fit.ts')).runCalibrate(a, o) },
};

export function simHelp(): string {
  return [
    'usage: servelab sim <subcommand> [options]     (servelab sim <subcommand> --help)',
    '',
    'The serving model: GPUs, models from config.json, the roofline cost model, the engine.',
    '',
    'Subcommands:',
    ...subcommandLines(SUBCOMMANDS),
    '',
    'Examples:',
    '  servelab sim explain --model Llama-3-8B --gpu H100 --tp 1 --prefill 2048 --decode 64 --ctx 2048',
    '  servelab sim predict data/runs/bench/20261205-021500-ab12',
    '  servelab sim models',
    '  servelab sim fit --samples steps.jsonl --model Llama-3-8B --gpu H100 --out coeffs.json',
  ].join('\n');
}

export async function run(argv: string[], out: Out = stdout): Promise<number> {
  const picked = pickSubcommand('sim', SUBCOMMANDS, argv);
  if (picked.kind === 'help') {
    out(simHelp());
    return picked.code;
  }
  return picked.entry.run(picked.rest, out);
}

const modelsSpec: CommandSpec = {
  name: 'sim models',
  summary: 'List the model presets with what follows from their config.json.',
  options: {
    'model-config': { type: 'string', help: 'show a Hugging Face config.json instead of the presets', metavar: 'FILE' },
    json: { type: 'boolean', help: 'print JSON' },
  },
  examples: ['servelab sim models', 'servelab sim models --model-config ./config.json', 'servelab sim models --json'],
};

async function runModels(argv: string[], out: Out): Promise<number> {
  const p = parseOrHelp(modelsSpec, argv, out);
  if (!p) return 0;
  const file = opt.str(p, 'model-config');
  const models = file ? [loadModelConfig(file)] : PRESETS.map((pr) => getModel(pr.name));
  const rows = models.map((m) => {
    const d = derive(m);
    return {
      name: m.name,
      arch: m.arch,
      layers: m.layers,
      hidden: m.hidden,
      heads: `${m.heads}/${m.kvHeads}×${m.headDim}`,
      experts: m.moe ? `${m.moe.experts}/top-${m.moe.topK}` : '',
      params_b: Number((d.totalParams / 1e9).toFixed(3)),
      active_b: Number((d.activeParams / 1e9).toFixed(3)),
      gflop_per_token: Number((d.flopsPerToken / 1e9).toFixed(2)),
      kv_kib_per_token: d.kvBytesPerToken / 1024,
      weights_gb: Number((d.weightBytes / 1e9).toFixed(1)),
      max_context: d.maxContext,
      valid_tp: d.validTp.join(','),
    };
  });
  if (opt.bool(p, 'json')) out(JSON.stringify(rows, null, 2));
  else out(formatTable(Object.keys(rows[0]!), rows.map((r) => Object.values(r))));
  return 0;
}

const gpusSpec: CommandSpec = {
  name: 'sim gpus',
  summary: 'List the GPU specs the cost model prices against (dense peaks).',
  options: {
    'gpu-file': { type: 'string', help: 'JSON file adding GPUs (fields: name, bf16Tflops, fp8Tflops, hbmGB, hbmTBps, nvlinkGBps, pcieGBps)', metavar: 'FILE' },
    json: { type: 'boolean', help: 'print JSON' },
  },
  examples: ['servelab sim gpus', 'servelab sim gpus --gpu-file my-gpus.json'],
};

async function runGpus(argv: string[], out: Out): Promise<number> {
  const p = parseOrHelp(gpusSpec, argv, out);
  if (!p) return 0;
  const file = opt.str(p, 'gpu-file');
  if (file) loadGpuFile(file);
  const gpus = file ? gpuNames().map(getGpu) : [...GPUS];
  if (opt.bool(p, 'json')) return out(JSON.stringify(gpus, null, 2)), 0;
  out(
    formatTable(
      ['name', 'bf16_tflops', 'fp8_tflops', 'hbm_gb', 'hbm_tb_s', 'nvlink_gb_s', 'pcie_gb_s', 'ridge_flop_per_byte', 'aliases'],
      gpus.map((g) => [g.name, g.bf16Tflops, g.fp8Tflops ?? '-', g.hbmGB, g.hbmTBps, g.nvlinkGBps, g.pcieGBps, Math.round(g.bf16Tflops / g.hbmTBps), g.aliases.join(' ')]),
    ),
  );
  return 0;
}
