// Shared by launch_baseline.mjs and launch_defaultAll2All.mjs: the old scripts' positional
// knobs, --dry-run, --sim, and a foreground server stopped cleanly on Ctrl-C.
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const L = await import(path.join(root, 'collectors/launchers/index.ts'));

export async function runLauncher({ name, preset, positionals, build }) {
  const self = process.argv.findIndex((a) => /launch_\w+\.mjs$/.test(a));
  const argv = process.argv.slice(self + 1);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`usage: ${path.basename(process.argv[self])} [${positionals.join('] [')}] [--dry-run] [--sim]${name === 'all2all' ? ' [--all2all-backend NAME] [--all2all-env]' : ''}`);
    process.exit(0);
  }
  const flag = (f) => {
    const i = argv.indexOf(f);
    if (i >= 0) argv.splice(i, 1);
    return i >= 0;
  };
  const value = (f) => {
    const i = argv.indexOf(f);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    argv.splice(i, 2);
    return v;
  };
  const dryRun = flag('--dry-run');
  const sim = flag('--sim') || /^(1|true|yes)$/i.test(process.env.SERVELAB_SIM ?? '');
  const all2allBackend = value('--all2all-backend');
  const all2allVia = flag('--all2all-env') ? 'env' : 'flag';
  const bad = argv.find((a) => a.startsWith('--'));
  if (bad) fail(`unknown flag ${bad}`, 2);
  if (argv.length > positionals.length) fail(`too many arguments (expected ${positionals.join(' ')})`, 2);
  const [model, port, batchTokens, maxSeqs, maxModelLen, epSize] = argv;
  const int = (v, what) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) fail(`${what}: '${v}' is not a whole number`, 2);
    return Number(v);
  };
  const knobs = {
    model, port: int(port, 'PORT'), batchTokens: int(batchTokens, 'BATCH_TOKENS'), maxSeqs: int(maxSeqs, 'MAX_SEQS'),
    maxModelLen: int(maxModelLen, 'MAX_MODEL_LEN'), epSize: int(epSize, 'EP_SIZE'), all2allBackend, all2allVia,
  };
  if (all2allBackend && !L.isAll2AllBackend(all2allBackend)) fail(`--all2all-backend: '${all2allBackend}' is not one of ${L.ALL2ALL_BACKENDS.join(', ')}`, 2);
  const spec = sim
    ? { kind: 'sim', name, preset, port: knobs.port ?? L.MOE_DEFAULTS.port, extraArgs: simArgs(knobs) }
    : build(L, knobs);
  const text = L.commandText(L.serverCommand(spec));
  if (dryRun) {
    console.log(text);
    return;
  }
  console.log(`starting ${name}: ${text}`);
  let server;
  try {
    server = await L.startServer(spec, { logDir: process.env.SERVELAB_LOG_DIR ?? 'logs', timeoutMs: sim ? 30_000 : 15 * 60_000 });
  } catch (err) {
    console.error(`${name}: ${err.message}`);
    for (const d of err.details ?? []) console.error(`  ${d}`);
    process.exit(1);
  }
  console.log(`${name} ready at ${server.url} (log ${server.logFile}); Ctrl-C stops it`);
  const stop = async () => {
    const end = await server.stop();
    console.log(`${name} stopped (${end.signal ?? `code ${end.code}`})`);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}

/** The old knobs, passed to the simulated server too (same scheduler limits). */
function simArgs(k) {
  const a = [];
  if (k.model) a.push('--model', k.model);
  if (k.batchTokens) a.push('--max-num-batched-tokens', String(k.batchTokens));
  if (k.maxSeqs) a.push('--max-num-seqs', String(k.maxSeqs));
  if (k.maxModelLen) a.push('--max-model-len', String(k.maxModelLen));
  if (k.epSize) a.push('--ep', String(k.epSize));
  return a;
}

function fail(msg, code = 1) {
  console.error(`${path.basename(process.argv[1] ?? 'launch')}: ${msg}`);
  process.exit(code);
}
