// Golden files: compare text with test/output/<case>/<name>. A missing snapshot is written
// (and the test passes) locally, but fails when CI=true; a mismatch writes <name>-changed.<ext>.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const inputDir = (name: string) => path.join(TEST_ROOT, 'input', name);
export const outputDir = (name: string) => path.join(TEST_ROOT, 'output', name);

export interface GoldenResult {
  ok: boolean;
  /** Why it failed (missing in CI, or which file holds the changed output). */
  message: string;
}

/** Checks `actual` against the snapshot; call expect(result.ok, result.message).toBe(true). */
export function checkGolden(caseName: string, file: string, actual: string, env = process.env): GoldenResult {
  const expectedFile = path.join(outputDir(caseName), file);
  const ext = path.extname(file);
  const changedFile = path.join(outputDir(caseName), `${path.basename(file, ext)}-changed${ext}`);
  if (!fs.existsSync(expectedFile)) {
    if (env.CI === 'true' || env.CI === '1') return { ok: false, message: `${expectedFile}: snapshot missing (snapshots are never written in CI)` };
    fs.mkdirSync(path.dirname(expectedFile), { recursive: true });
    fs.writeFileSync(expectedFile, actual);
    return { ok: true, message: `${expectedFile}: snapshot written; check it by eye and commit it` };
  }
  if (fs.readFileSync(expectedFile, 'utf8') === actual) {
    fs.rmSync(changedFile, { force: true });
    return { ok: true, message: 'matches' };
  }
  fs.writeFileSync(changedFile, actual);
  return { ok: false, message: `${expectedFile}: output changed; see ${changedFile} (diff them; copy it over the snapshot if the change is right)` };
}

/** Rounds floats to 12 significant digits so snapshots do not depend on the last ulp. */
export function roundFloats(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isInteger(v)) return Number(v.toPrecision(12));
  if (Array.isArray(v)) return v.map(roundFloats);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundFloats(x)]));
  return v;
}

/** Snapshot rounding: 12 significant digits, then 9 decimals, so values that are 0 up to float noise
 * (a fit's intercept, a CV of equal loads) do not flip with DuckDB's parallel summation order. */
export function roundFixed(v: unknown): unknown {
  const r = roundFloats(v);
  if (typeof r === 'number' && !Number.isInteger(r)) return Number(r.toFixed(9)) + 0;
  if (Array.isArray(r)) return r.map(roundFixed);
  if (r && typeof r === 'object') return Object.fromEntries(Object.entries(r).map(([k, x]) => [k, roundFixed(x)]));
  return r;
}
