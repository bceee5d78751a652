// The catalog of warnings servelab prints. Tests assert against these functions rather than
// against copied strings, so a wording change is made in one place.

export const message = {
  tornLastLine: (file: string, line: number) =>
    `${file}:${line}: last line is incomplete (torn write); it was skipped`,
  skippedLines: (file: string, n: number) => `${file}: skipped ${n} malformed line(s) (--lenient)`,
  runIncomplete: (run: string) =>
    `run ${run} is marked incomplete: run 'servelab runs repair ${run}' to finalize what was written`,
  emptyArchive: (dir: string) => `no runs under ${dir}: run a pipeline first, or point --data at an archive`,
  noDataDir: (dir: string) => `data folder ${dir} does not exist: pass --data DIR or run from the project folder`,
  hostBehind: (p99ms: number) =>
    `this host cannot keep up: p99 token lateness ${p99ms.toFixed(1)} ms; timings are stretched`,
  tokenMismatch: (client: number, server: number) =>
    `output tokens: client counted ${client}, server usage says ${server}`,
} as const;
