// Which datasets a run has measured on which backend (raw/moe_progress.jsonl, append-only), so
// an interrupted pipeline resumes where it stopped; plus the shard numbering that keeps them apart.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetPrompt } from './datasets.ts';
import { predictImbalance } from './predictor.ts';

export const KNOWN_BACKENDS = ['baseline', 'all2all'] as const;

export function backendIndex(backend: string): number {
  const i = (KNOWN_BACKENDS as readonly string[]).indexOf(backend);
  if (i >= 0) return i;
  let h = 0;
  for (const ch of backend) h = (h * 31 + ch.charCodeAt(0)) % 90;
  return 2 + h;
}

/** Shard id of one (backend, dataset, attempt): request ids r<shard>-… and raw files never collide. */
export const shardOf = (backendIdx: number, datasetIndex: number, attempt: number) => 1 + backendIdx * 100_000 + attempt * 1000 + (datasetIndex % 1000);

export interface DatasetInfo {
  name: string;
  index: number;
  score: number;
  strategy: string | null;
}

/** Name, index and predicted score from a {index:03}_{score:.4f}.jsonl file (else predicted now). */
export function datasetInfo(file: string, prompts: readonly DatasetPrompt[]): DatasetInfo {
  const name = path.basename(file).replace(/\.jsonl?$/, '');
  const m = /^(\d+)_(\d+\.\d+)$/.exec(name);
  return {
    name,
    index: m ? Number(m[1]) : 0,
    score: m ? Number(m[2]) : predictImbalance(prompts).score,
    strategy: prompts[0]?.strategy ?? null,
  };
}

export interface ProgressEntry {
  backend: string;
  dataset: string;
  index: number;
  shard: number;
  attempt: number;
  status: 'ok' | 'failed';
  completed: number;
  failed: number;
  gate_lines: number;
  seconds: number;
  error: string | null;
}

export const progressFile = (runDir: string) => path.join(runDir, 'raw', 'moe_progress.jsonl');

export function appendProgress(runDir: string, e: ProgressEntry): void {
  fs.mkdirSync(path.dirname(progressFile(runDir)), { recursive: true });
  fs.appendFileSync(progressFile(runDir), JSON.stringify({ ...e, t_unix_ms: Date.now() }) + '\n');
}

/** The latest entry per backend/dataset (a torn last line is ignored). */
export function readProgress(runDir: string): Map<string, ProgressEntry> {
  const out = new Map<string, ProgressEntry>();
  const f = progressFile(runDir);
  if (!fs.existsSync(f)) return out;
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as ProgressEntry;
      out.set(`${e.backend}/${e.dataset}`, e);
    } catch {
      /* torn */
    }
  }
  return out;
}
