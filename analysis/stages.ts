// The stage runner: analysis/<stage>.sql and analysis/<exp>/<stage>.sql files, each a SELECT with a header comment naming its
// inputs (tables and catalog views) and depends (earlier stages), built in dependency order into
// derived/<stage>.parquet atomically, and only rebuilt when an input is newer than the output.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import type { DuckDBConnection } from '@duckdb/node-api';
import { CliError, choiceList, errorMessage } from '../core/errors.ts';
import { formatBytes } from '../core/output.ts';
import { TABLE_NAMES, isTableName, tables, type TableName } from '../core/schema.ts';
import { openCatalog, sqlQuote } from './catalog.ts';
import { catalogViews, viewNamed } from './views.ts';
import { copyToParquet } from './runstore.ts';

/** The folder holding the project's stage files. */
export const STAGE_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface StageDef {
  name: string;
  file: string;
  /** Contract tables and catalog views (analysis/views/, e.g. request_metrics) the stage reads. */
  inputs: string[];
  /** Earlier stages it reads (as views named after them). */
  depends: string[];
  grain: string;
  /** The header comment, as written (formulas and units). */
  header: string;
  sql: string;
}

const HEADER_KEYS = ['inputs', 'depends', 'grain', 'formulas', 'units', 'stage'] as const;

/** Parses a stage file's header (`-- key: value` lines before the first SQL line). */
export function parseStage(file: string, text: string): StageDef {
  const name = path.basename(file, '.sql');
  const fields = new Map<string, { value: string; line: number }>();
  const header: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) break;
    const body = line.replace(/^--\s?/, '');
    header.push(body);
    const m = /^([a-z_]+):\s*(.*)$/.exec(body);
    if (m && (HEADER_KEYS as readonly string[]).includes(m[1]!)) fields.set(m[1]!, { value: m[2]!.trim(), line: i + 1 });
  }
  const where = (key: string) => `${file}:${fields.get(key)?.line ?? 1}`;
  const list = (key: string) =>
    (fields.get(key)?.value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== '(none)' && s !== 'none');
  for (const key of ['inputs', 'grain'] as const) {
    if (!fields.has(key)) throw new CliError(`${file}:1: header: missing '-- ${key}: …' line (a stage opens with inputs, depends, grain, formulas, units)`);
  }
  const inputs = list('inputs');
  const readable = [...TABLE_NAMES, ...catalogViews().map((v) => v.name)];
  for (const t of inputs) {
    if (!readable.includes(t)) throw new CliError(`${where('inputs')}: inputs: ${choiceList(t, readable)} (stages go under depends)`);
  }
  const sql = text.replace(/;\s*$/, '').trimEnd();
  return { name, file, inputs, depends: list('depends'), grain: fields.get('grain')!.value, header: header.join('\n'), sql };
}

/** Subfolders of the stage folder that hold no stages (catalog views, ad-hoc queries). */
const NOT_STAGE_DIRS = new Set(['views', 'queries']);

/**
 * Every stage in a folder, by name: `<dir>/<stage>.sql` (shared stages such as latency_summary) and
 * `<dir>/<exp>/<stage>.sql`, one folder per experiment (DESIGN's "one experiment, one room"), named
 * `<exp>_<stage>` (analysis/moe/cv.sql → moe_cv, output derived/moe_cv.parquet). A .sql file whose
 * header does not parse is left out and its error kept in `problems`, so one odd file does not stop
 * the others; asking for it by name fails.
 */
export function loadStages(dir = STAGE_DIR, problems = new Map<string, string>()): Map<string, StageDef> {
  const files: { name: string; file: string }[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile() && e.name.endsWith('.sql')) files.push({ name: path.basename(e.name, '.sql'), file: path.join(dir, e.name) });
    else if (e.isDirectory() && !NOT_STAGE_DIRS.has(e.name)) {
      for (const f of fs.readdirSync(path.join(dir, e.name)).filter((f) => f.endsWith('.sql')).sort()) {
        files.push({ name: `${e.name}_${path.basename(f, '.sql')}`, file: path.join(dir, e.name, f) });
      }
    }
  }
  const out = new Map<string, StageDef>();
  for (const { name, file } of files.sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      out.set(name, { ...parseStage(file, fs.readFileSync(file, 'utf8')), name });
    } catch (err) {
      problems.set(name, errorMessage(err));
    }
  }
  return out;
}

/** The wanted stages and everything they depend on, dependencies first. Cycles are errors. */
export function stageOrder(all: Map<string, StageDef>, wanted?: readonly string[], problems = new Map<string, string>()): StageDef[] {
  const names = [...all.keys()];
  const order: StageDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[], from?: StageDef) => {
    const stage = all.get(name);
    if (!stage && problems.has(name)) throw new CliError(problems.get(name)!);
    if (!stage) {
      const where = from ? `${from.file}: depends: ` : 'stage ';
      throw new CliError(`${where}${choiceList(name, names)}`);
    }
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name].join(' → ');
      throw new CliError(`stage dependency cycle: ${cycle}`, undefined, [`fix the '-- depends:' line of ${stage.file}`]);
    }
    state.set(name, 'visiting');
    for (const d of stage.depends) visit(d, [...trail, name], stage);
    state.set(name, 'done');
    order.push(stage);
  };
  for (const name of wanted ?? names) visit(name, []);
  return order;
}

/** Files whose modification makes a stage's output stale, for the given runs. */
export function inputFiles(stage: StageDef, runDirs: readonly string[], outDir: string): string[] {
  const files = [stage.file];
  // A catalog view stands for its own file and the tables it reads.
  const tablesRead = new Set<TableName>();
  for (const input of stage.inputs) {
    const view = viewNamed(input);
    if (view) files.push(view.file);
    for (const t of view ? view.inputs : isTableName(input) ? [input] : []) tablesRead.add(t);
  }
  for (const dir of runDirs) {
    for (const t of tablesRead) {
      if (t === 'runs') files.push(path.join(dir, 'manifest.json'));
      else files.push(...fg.sync(tables[t].raw, { cwd: dir, absolute: true }));
      files.push(path.join(dir, `${t}.parquet`));
    }
  }
  for (const d of stage.depends) files.push(path.join(outDir, `${d}.parquet`));
  return files.filter((f) => fs.existsSync(f));
}

export function isFresh(output: string, inputs: readonly string[]): boolean {
  if (!fs.existsSync(output)) return false;
  const built = fs.statSync(output).mtimeMs;
  return inputs.every((f) => fs.statSync(f).mtimeMs <= built);
}

export interface RunStagesOptions {
  /** One run folder; outputs go to <runDir>/derived unless outDir says otherwise. */
  runDir?: string;
  /** Several run folders read together (e.g. a comparison); needs outDir. */
  runDirs?: readonly string[];
  outDir?: string;
  /** Stages to build (their dependencies come along); default: every stage. */
  stages?: readonly string[];
  /** Rebuild even when fresh. */
  force?: boolean;
  /** Skip and count malformed raw lines of unfinalized runs instead of failing (see openCatalog). */
  lenient?: boolean;
  /** Where the stage files live (default: analysis/). */
  stageDir?: string;
  log?: (line: string) => void;
  now?: () => number;
}

export interface StageResult {
  stage: string;
  state: 'fresh' | 'built';
  output: string;
  bytes: number;
  ms: number;
}

/** Builds the wanted stages in order and returns their outputs (dependencies included). */
export async function runStages(opts: RunStagesOptions): Promise<StageResult[]> {
  const runDirs = (opts.runDirs ?? (opts.runDir ? [opts.runDir] : [])).map((d) => path.resolve(d));
  if (runDirs.length === 0) throw new CliError('runStages: give a run folder (runDir) or several (runDirs)');
  for (const d of runDirs) {
    if (!fs.existsSync(path.join(d, 'manifest.json'))) throw new CliError(`${d}: not a run folder (no manifest.json)`);
  }
  if (runDirs.length > 1 && !opts.outDir) throw new CliError('runStages: several runs need an output folder (outDir)');
  const outDir = path.resolve(opts.outDir ?? path.join(runDirs[0]!, 'derived'));
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? (() => performance.now());
  const problems = new Map<string, string>();
  const order = stageOrder(loadStages(opts.stageDir, problems), opts.stages, problems);
  if (!opts.stages) for (const [name, problem] of problems) log(`[skip] ${name}: ${problem}`);

  const results: StageResult[] = [];
  let catalog: Awaited<ReturnType<typeof openCatalog>> | undefined;
  try {
    for (const stage of order) {
      const t0 = now();
      const output = path.join(outDir, `${stage.name}.parquet`);
      if (!opts.force && isFresh(output, inputFiles(stage, runDirs, outDir))) {
        results.push(done(stage, 'fresh', output, now() - t0, log));
        continue;
      }
      catalog ??= await openCatalog({ runDirs, lenient: opts.lenient, warn: log });
      await buildStage(catalog.conn, stage, output, outDir);
      results.push(done(stage, 'built', output, now() - t0, log));
    }
  } finally {
    catalog?.close();
  }
  return results;
}

function done(stage: StageDef, state: StageResult['state'], output: string, ms: number, log: (l: string) => void): StageResult {
  const bytes = fs.statSync(output).size;
  log(`[${state}] ${stage.name} ${formatBytes(bytes)} in ${Math.round(ms)} ms`);
  return { stage: stage.name, state, output, bytes, ms };
}

/** COPY the stage's query to its output atomically (copyToParquet); on failure keep the error beside it. */
async function buildStage(conn: DuckDBConnection, stage: StageDef, output: string, outDir: string): Promise<void> {
  fs.mkdirSync(outDir, { recursive: true });
  const errorFile = path.join(outDir, `${stage.name}.error.txt`);
  try {
    for (const d of stage.depends) {
      await conn.run(`CREATE OR REPLACE TEMP VIEW ${d} AS SELECT * FROM read_parquet(${sqlQuote(path.join(outDir, `${d}.parquet`))}, hive_partitioning = false)`);
    }
    await copyToParquet(conn, stage.sql, output);
    fs.rmSync(errorFile, { force: true });
  } catch (err) {
    const msg = errorMessage(err);
    fs.writeFileSync(errorFile, `${stage.file}\n${msg}\n`);
    throw new CliError(`${stage.file}: stage ${stage.name} failed: ${msg}`, undefined, [`error kept in ${errorFile}`]);
  }
}
