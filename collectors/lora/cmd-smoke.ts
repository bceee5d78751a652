// `servelab lora smoke`: the old smoke_test_server.py against a running /generate server —
// health and configuration, a generate for an adapter in HBM and one out of it, swap stats that
// move only for the second, a reset that keeps the init stats. One PASS/FAIL line per check.
import { opt, type CommandSpec, parseOrHelp } from '../../core/args.ts';
import { ExitCode, usageError } from '../../core/errors.ts';
import { checkLoraCounts } from './servers.ts';

export const spec: CommandSpec = {
  name: 'lora smoke',
  summary: 'sanity test of a running LoRA /generate server; exit 1 when a check fails',
  options: {
    port: { type: 'integer', help: 'server port on 127.0.0.1', default: 8000, min: 1 },
    endpoint: { type: 'string', short: 'e', help: 'server URL (overrides --port)', metavar: 'URL' },
    'total-loras': { type: 'integer', help: 'adapters the server should have (N)', default: 128 },
    'gpu-loras': { type: 'integer', help: 'adapters it should have in HBM (M)', default: 2 },
    'max-tokens': { type: 'integer', help: 'tokens per test generate', default: 8, min: 1 },
    timeout: { type: 'number', short: 't', help: 'per-request timeout (s)', default: 60 },
  },
  examples: ['servelab lora smoke --port 8000 --total-loras 128 --gpu-loras 2'],
};

type Json = Record<string, any>;
interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SmokeEffects {
  fetch: typeof fetch;
  out: (line: string) => void;
}

export async function smoke(base: string, n: number, m: number, maxTokens: number, timeoutMs: number, fx: SmokeEffects): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    fx.out(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `: ${detail}` : ''}`);
  };
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Json | null; error?: string }> => {
    try {
      const res = await fx.fetch(base + path, { method, headers: body ? { 'content-type': 'application/json' } : undefined, body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let json: Json | null = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON: reported by the check */
      }
      return { status: res.status, json };
    } catch (e) {
      return { status: 0, json: null, error: (e as Error).message };
    }
  };
  const what = (r: { status: number; error?: string }) => (r.error ? `no answer (${r.error})` : `HTTP ${r.status}`);

  const h = await call('GET', '/health');
  add('health', h.status === 200, h.status === 200 ? `status ${h.json?.status ?? 'ok'}` : what(h));
  if (h.status !== 200) return checks;
  const cfgN = h.json?.total_loras;
  const cfgM = h.json?.gpu_loras;
  add('configuration', cfgN === n && cfgM === m, `server total_loras=${cfgN ?? 'n/a'} gpu_loras=${cfgM ?? 'n/a'}, expected ${n} and ${m}`);

  const stats = async () => (await call('GET', '/swap_stats')).json as { init?: Json; runtime?: Json } | null;
  const reset = await call('POST', '/reset_swap_stats');
  const s0 = await stats();
  add('swap_stats', reset.status === 200 && !!s0?.init && !!s0?.runtime, s0 ? `init ${JSON.stringify(s0.init)} runtime ${JSON.stringify(s0.runtime)}` : 'GET /swap_stats did not answer {init, runtime}');
  const gen = async (id: number) => call('POST', '/generate', { prompt: 'Hello, how are you?', model_id: id, max_tokens: maxTokens });
  const genOk = (r: { status: number; json: Json | null }) => r.status === 200 && Array.isArray(r.json?.text) && typeof r.json?.ttft === 'number';

  const g1 = await gen(0);
  const s1 = await stats();
  add(`generate model_id=0 (in HBM)`, genOk(g1), genOk(g1) ? `ttft ${(g1.json!.ttft * 1000).toFixed(1)} ms, completion ${(g1.json!.completion_time * 1000).toFixed(1)} ms` : what(g1));
  const d1 = (s1?.runtime?.swap_count ?? 0) - (s0?.runtime?.swap_count ?? 0);
  add('no swap for an adapter in HBM', d1 === 0, `runtime swap_count +${d1}`);

  if (m < n) {
    const g2 = await gen(m);
    const s2 = await stats();
    add(`generate model_id=${m} (out of HBM)`, genOk(g2), genOk(g2) ? `ttft ${(g2.json!.ttft * 1000).toFixed(1)} ms, completion ${(g2.json!.completion_time * 1000).toFixed(1)} ms` : what(g2));
    const d2 = (s2?.runtime?.swap_count ?? 0) - (s1?.runtime?.swap_count ?? 0);
    add('a swap for an adapter out of HBM', d2 > 0, `runtime swap_count +${d2}`);
  } else fx.out(`SKIP  generate out of HBM: every adapter is resident (gpu-loras = total-loras = ${n})`);

  const before = await stats();
  const r = await call('POST', '/reset_swap_stats');
  const after = await stats();
  const zero = after?.runtime?.swap_count === 0 && after?.runtime?.swap_calls === 0;
  const keep = JSON.stringify(after?.init) === JSON.stringify(before?.init);
  add('reset_swap_stats keeps init stats', r.status === 200 && zero && keep, `runtime ${JSON.stringify(after?.runtime)}, init ${JSON.stringify(after?.init)}`);
  return checks;
}

export async function run(argv: string[], fx: SmokeEffects = { fetch, out: (l) => process.stdout.write(l + '\n') }): Promise<number> {
  const p = parseOrHelp(spec, argv);
  if (!p) return ExitCode.ok;
  const n = opt.num(p, 'total-loras')!;
  const m = opt.num(p, 'gpu-loras')!;
  checkLoraCounts(n, m);
  const base = (opt.str(p, 'endpoint') ?? `http://127.0.0.1:${opt.num(p, 'port')}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw usageError(`--endpoint ${base}: expected a URL such as http://127.0.0.1:8000`);
  fx.out(`smoke test of ${base} (total-loras ${n}, gpu-loras ${m})`);
  const checks = await smoke(base, n, m, opt.num(p, 'max-tokens')!, opt.num(p, 'timeout')! * 1000, fx);
  const failed = checks.filter((c) => !c.ok).length;
  fx.out(failed ? `${failed} of ${checks.length} checks FAILED` : `all ${checks.length} checks passed`);
  return failed ? ExitCode.failure : ExitCode.ok;
}
