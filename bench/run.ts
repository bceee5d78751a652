// `npm run bench`: runs every bench/*.bench.ts in its own process, one after another, and
// prints their figures. `npm run bench -- NAME…` runs only the named ones (e.g. runstore).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(' ')}; have: ${fs.readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).join(' ')}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, f)], { stdio: 'inherit' });
  console.log(`(${f}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall${r.status ? `, exit ${r.status}` : ''})`);
  if (r.status) failed++;
}
process.exit(failed ? 1 : 0);
