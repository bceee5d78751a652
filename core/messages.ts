// The catalog of warnings servelab prints. Tests assert against these functions rather than
// against copied strings, so a wording change is made in one place.

export const message = {
  tornLastLine: (file: string, line: number) =>
    `${file}:${line}: last line is incomplete (torn write); it was skipped`,
  skippedLines: (file: string, n: number) => `${file}: skipped ${n} malformed line(s) (--lenient)`,
  rawLinesSkipped: (file: string, n: number, first: string) =>
    `${file}: skipped ${n} malformed line(s) (--lenient); the first: ${first}`,
  runIncomplete: (run: string) =>
    `run ${run} is marked incomplete: run 'servelab runs repair ${run}' to finalize what was written`,
  runStillRunning: (run: string) =>
    `run ${run} is still marked running: if its writer has stopped (crash, kill), use 'servelab runs repair ${run}' to finalize what was written and mark it incomplete`,
  writerAlive: (run: string, pid: number) =>
    `run ${run} is still being written by process ${pid} on this host: stop it first, or wait for it to finish`,
  finalized: (run: string, records: number, tables: number, seconds: number) =>
    `finalized ${run}: ${records} records in ${tables} table(s) in ${seconds.toFixed(1)} s`,
  repaired: (run: string) => `repaired ${run}: status incomplete (the writer stopped before finishing)`,
  notReadOnly: (kind: string) =>
    `only read statements (SELECT, DESCRIBE, SHOW, EXPLAIN, SUMMARIZE) run by default; this is a ${kind} statement: pass --write to run it`,
  emptyArchive: (dir: string) => `no runs under ${dir}: run a pipeline first, or point --data at an archive`,
  noDataDir: (dir: string) => `data folder ${dir} does not exist: pass --data DIR or run from the project folder`,
  hostBehind: (p99ms: number) =>
    `this host cannot keep up: p99 token lateness ${p99ms.toFixed(1)} ms; timings are stretched`,
  clientBehind: (p99ms: number) =>
    `the client sent late: p99 send lag ${p99ms.toFixed(1)} ms behind the schedule; this host cannot drive the requested rate (lower it, or add --shard processes)`,
  moeGatesNotCollected: (backend: string, dataset: string, why: string) =>
    `${backend} ${dataset}: gate logs not collected (${why}); its real CV will be missing`,
  moeDatasetFailed: (why: string) => `${why}; the other datasets go on`,
  imbalanceMetricsFallback: (url: string, why: string) =>
    `metrics endpoint ${url}: ${why}; sizing prompts by this client's own in-flight count per GPU from now on where it fails (failures are counted in the summary)`,
} as const;
