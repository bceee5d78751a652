// Collecting one dataset's gate logs from a server: the simulated server records them over HTTP
// (SGLang's start/stop/dump names); an instrumented vLLM writes files we move into the run; a
// vLLM with --enable-return-routed-experts returns each request's experts in its response.
import fs from 'node:fs';
import path from 'node:path';
import { CliError } from '../../core/errors.ts';
import { GATE_FILE_RE } from './gatelogs.ts';

/**
 * sim: the simulated server records over HTTP; dir: an instrumented server writes files;
 * routed: vLLM's --enable-return-routed-experts, read from non-streaming responses; none.
 */
export type GateMode = { kind: 'sim' } | { kind: 'none' } | { kind: 'dir'; src: string } | { kind: 'routed' };
export const GATE_MODES: readonly GateMode['kind'][] = ['sim', 'none', 'dir', 'routed'];

/** raw/gate_logs/<backend>/gates_logs_<index:02> — the old scripts' folder layout, inside the run. */
export function gateDumpDir(runDir: string, backend: string, index: number): string {
  return path.join(runDir, 'raw', 'gate_logs', backend, `gates_logs_${String(index).padStart(2, '0')}`);
}

async function post(url: string, body?: unknown): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200) throw new CliError(`${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res;
}

export const collectGates = {
  /** Resets and starts recording (before the dataset). */
  async start(baseUrl: string): Promise<void> {
    await post(`${baseUrl}/start_expert_distribution_record`);
  },
  /** Stops recording and has the server write gate_logs_dump*_<replica>.jsonl into `dir`. */
  async dump(baseUrl: string, dir: string): Promise<void> {
    await post(`${baseUrl}/stop_expert_distribution_record`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const res = await post(`${baseUrl}/dump_expert_distribution_record`, { dir: path.resolve(dir) });
    await res.body?.cancel();
  },
  /** Moves the gate_logs_* files a server wrote into `src` to `dir` (the server starts new ones). */
  async move(src: string, dir: string): Promise<void> {
    if (!fs.existsSync(src)) throw new CliError(`${src}: gate-log directory does not exist`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const files = fs.readdirSync(src).filter((f) => GATE_FILE_RE.test(f));
    if (files.length === 0) throw new CliError(`${src}: no gate_logs_* files to collect`);
    for (const f of files) {
      try {
        fs.renameSync(path.join(src, f), path.join(dir, f));
      } catch {
        fs.copyFileSync(path.join(src, f), path.join(dir, f));
        fs.truncateSync(path.join(src, f), 0);
      }
    }
  },
};
