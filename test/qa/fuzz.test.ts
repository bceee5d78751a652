// Seeded, bounded fuzzing of the input readers: the JSONL record reader, the gate-log reader,
// the sim serve config loader and the CLI flag parser. Every input gets either a clear error
// (CliError, naming where) or a correct result; never an internal error (TypeError, RangeError,
// a DuckDB message without a file). Same seed, same inputs: a failure reproduces.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCv } from '../../collectors/moe/cv.ts';
import { spec as benchSpec } from '../../collectors/cmd-bench.ts';
import { parseArgs } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { readJsonlAll, scanJsonl } from '../../core/jsonl-reader.ts';
import { tables } from '../../core/schema.ts';
import { spec as sqlSpec } from '../../analysis/cmd-sql.ts';
import { resolveConfigs, spec as serveSpec } from '../../simulator/server/cmd-serve.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-fuzz-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A small LCG: the same seed gives the same inputs on every machine. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const PIECES = ['"', '\\', ',', ':', '{', '}', '[', ']', '0', '-1', '1e400', '2.5', '9007199254740993', 'null', 'true', '""', ' ', '\n', '\u0000', 'é', '"x":', '"step":', '"layer":', '"expert_counts":[1,2]', 'NaN', '-0'];

/** Mutates a text with 1–3 random deletions, insertions or replacements. */
function mutate(r: ReturnType<typeof rng>, text: string): string {
  let s = text;
  for (let m = 1 + r.int(3); m > 0; m--) {
    const at = r.int(s.length + 1);
    const piece = r.pick(PIECES);
    const op = r.int(3);
    s = op === 0 ? s.slice(0, at) + s.slice(at + 1 + r.int(4)) : op === 1 ? s.slice(0, at) + piece + s.slice(at) : s.slice(0, at) + piece + s.slice(at + piece.length);
  }
  return s;
}

/** Runs fn; a CliError or a value passes, anything else fails the test with the input shown. */
function clearOrOk<T>(input: string, fn: () => T): { ok: true; value: T } | { ok: false; error: CliError } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof CliError) return { ok: false, error: err };
    throw new Error(`internal error on input ${JSON.stringify(input).slice(0, 400)}: ${(err as Error).stack}`);
  }
}

async function clearOrOkAsync<T>(input: string, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: CliError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof CliError) return { ok: false, error: err };
    throw new Error(`internal error on input ${JSON.stringify(input).slice(0, 400)}: ${(err as Error).stack}`);
  }
}

describe('fuzz', () => {
  it('JSONL reader: 600 mutated request files; the fast scan and the full reader agree', () => {
    const r = rng(15);
    const good = [
      '{"run":"r","shard":0,"request_id":"a","protocol":"openai-completions","status":"ok","sent_ns":100,"first_token_ns":110,"output_tokens":8}',
      '{"run":"r","shard":0,"request_id":"b","protocol":"sim","status":"timeout","sent_ns":200,"error":"late"}',
      '{"run":"r","request_id":"c","protocol":"sim","status":"ok","extra":{"k":1},"custom":"x"}',
    ];
    for (let i = 0; i < 600; i++) {
      const lines = good.map((l) => (r.next() < 0.4 ? mutate(r, l) : l));
      const text = lines.join('\n') + (r.next() < 0.8 ? '\n' : '');
      const file = path.join(root, `req-${i}.jsonl`);
      fs.writeFileSync(file, text);
      for (const lenient of [false, true]) {
        const scan = clearOrOk(text, () => scanJsonl(tables.requests, file, { lenient }));
        const full = clearOrOk(text, () => readJsonlAll(tables.requests, file, { lenient }));
        expect(scan.ok, text).toBe(full.ok); // both accept or both refuse
        if (scan.ok && full.ok) expect(scan.value.records, text).toBe(full.value.records.length);
        if (!scan.ok) expect(scan.error.message, text).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `));
        if (full.ok) {
          for (const rec of full.value.records) {
            for (const [k, v] of Object.entries(rec)) if (k.endsWith('_ns') && v !== null) expect(Number.isSafeInteger(v) && (v as number) >= 0, `${k}=${v}`).toBe(true);
          }
        }
      }
    }
  });

  it('gate-log reader: 40 mutated gate folders give a CV or an error naming the file', { timeout: 60_000 }, async () => {
    const r = rng(16);
    const line = (step: number, layer: number) => JSON.stringify({ step, layer, num_tokens: 6, expert_counts: [1, 2, 3, 0], rank: 0, t: step * 0.01 });
    for (let i = 0; i < 40; i++) {
      const dir = path.join(root, `g${i}`, 'gates_logs_01');
      fs.mkdirSync(dir, { recursive: true });
      const lines = [0, 1, 2].flatMap((s) => [0, 1].map((l) => line(s, l))).map((l) => (r.next() < 0.3 ? mutate(r, l) : l));
      const text = lines.join('\n') + '\n';
      fs.writeFileSync(path.join(dir, 'gate_logs_0.jsonl'), text);
      const res = await clearOrOkAsync(text, () => computeCv([dir]));
      if (res.ok) {
        for (const s of res.value.summaries) expect(s.per_step_cv === null || (typeof s.per_step_cv === 'number' && s.per_step_cv >= 0), text).toBe(true);
      } else expect(res.error.message, text).toContain(dir);
    }
  });

  it('sim serve config loader: 300 mutated YAML and JSON configs', () => {
    const r = rng(17);
    const yaml = 'model: Llama-3-8B\ngpus: 2\ntp: 1\nport: 0\nseed: 3\nmaxModelLen: 4096\nfaults:\n  errorRate: 0.1\nlora:\n  totalLoras: 4\n  gpuLoras: 2\n';
    const json = JSON.stringify({ servers: [{ model: 'Llama-3-8B', port: 0, gpus: 1 }, { preset: 'llama-cpp', port: 0 }] });
    for (let i = 0; i < 300; i++) {
      const [base, ext] = i % 2 ? [yaml, 'yaml'] : [json, 'json'];
      const text = mutate(r, base);
      const file = path.join(root, `serve-${i}.${ext}`);
      fs.writeFileSync(file, text);
      const res = clearOrOk(text, () => resolveConfigs(parseArgs(serveSpec, ['--config', file])));
      if (res.ok) {
        for (const c of res.value) {
          expect(Number.isInteger(c.gpus) && c.gpus >= 1 && c.gpus <= 4096, text).toBe(true);
          expect(Number.isSafeInteger(c.seed), text).toBe(true);
          expect(c.maxModelLen >= 1 && c.maxModelLen <= 10_000_000, text).toBe(true);
        }
      } else expect(res.error.message, text).toContain(file);
    }
  });

  it('CLI flag parser: 2,000 random command lines over bench, sql and sim serve', () => {
    const r = rng(18);
    const specs = [benchSpec, sqlSpec, serveSpec];
    const values = ['1', '0', '-1', '1e15', 'inf', 'nan', '', 'x', '--', '-', '0.5', '1e300', 'a,b', '10:0-50', 'http://u:p@h:1', '\n'];
    for (let i = 0; i < 2000; i++) {
      const spec = specs[i % specs.length]!;
      const flags = Object.keys(spec.options).map((f) => `--${f}`);
      const argv = Array.from({ length: r.int(6) }, () => (r.next() < 0.6 ? r.pick(flags) + (r.next() < 0.2 ? `=${r.pick(values)}` : '') : r.pick(values)));
      const res = clearOrOk(argv.join(' '), () => parseArgs(spec, argv));
      if (res.ok) {
        for (const [k, v] of Object.entries(res.value.opts)) {
          const o = spec.options[k]!;
          if (typeof v === 'number' && Number.isFinite(v)) {
            if (o.min !== undefined) expect(v >= o.min, `${k}=${v}`).toBe(true);
            if (o.max !== undefined) expect(v <= o.max, `${k}=${v}`).toBe(true);
            if (o.type === 'integer') expect(Number.isSafeInteger(v), `${k}=${v}`).toBe(true);
          }
          if (typeof v === 'number') expect(Number.isNaN(v), `${k}=${v}`).toBe(false);
        }
        if (spec === serveSpec) clearOrOk(argv.join(' '), () => resolveConfigs(res.value));
      } else expect(res.error.exitCode, argv.join(' ')).toBe(2);
    }
  });
});
