// Gate logs → a run's gate_loads table: one record per (file, step, layer, expert), written by
// DuckDB as raw/gates/<name>.jsonl (atomically), with source = <group>/<file stem>.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlQuote } from '../../analysis/catalog.ts';
import { readManifest } from '../../analysis/runstore.ts';
import { RunHandle } from '../../core/run.ts';
import { gateLogFiles, gateSourceName, loadGateLines } from './gatelogs.ts';

/** A handle to append to an existing run (its manifest read and checked by readManifest). */
export function openRunHandle(runDir: string): RunHandle {
  return new RunHandle(runDir, readManifest(runDir), 0);
}

/** File-system-safe name of a group ('baseline/007_0.4907' → 'baseline__007_0.4907'). */
export const gateFileName = (group: string) => group.replace(/[^A-Za-z0-9._-]+/g, '__');

export interface IngestResult {
  group: string;
  file: string;
  records: number;
  lines: number;
  warnings: string[];
}

/** Ingests one directory of gate_logs_* files as `group` into the run (replacing that group's file). */
export async function ingestGateDir(run: RunHandle, dir: string, group: string): Promise<IngestResult> {
  const files = gateLogFiles(dir);
  const out = run.rawFile('gate_loads', gateFileName(group));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${path.dirname(out)}/.${path.basename(out)}.tmp-${process.pid}`;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const { warnings } = await loadGateLines(conn, files, (f) => `${group}/${gateSourceName(f)}`);
    await conn.run(
      `COPY (
         SELECT ${sqlQuote(run.id)} AS run, ${run.shard} AS shard, source, step, layer,
           unnest(range(len(expert_counts)))::INTEGER AS expert, unnest(expert_counts) AS tokens,
           num_tokens AS step_tokens, (t * 1e9)::BIGINT AS t_ns
         FROM gate_lines ORDER BY source, step, layer
       ) TO ${sqlQuote(tmp)} (FORMAT json)`,
    );
    const counts = await conn.runAndReadAll(
      `SELECT count(*)::BIGINT AS lines, coalesce(sum(len(expert_counts)), 0)::BIGINT AS records FROM gate_lines`,
    );
    const row = counts.getRowObjectsJS()[0]!;
    fs.renameSync(tmp, out);
    return { group, file: out, lines: Number(row.lines), records: Number(row.records), warnings };
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
