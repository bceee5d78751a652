// Test helper run as a child process: appends request records to a run in a loop and prints
// how many have reached the file after each flush, until killed (bounded: 200,000 or 30 s).
import { createRun } from '../../core/run.ts';

const [dataDir, runId] = process.argv.slice(2) as [string, string];
const run = createRun({ experiment: 'kill', runId, dataDir, config: { child: true } });
const t0 = Date.now();
let i = 0;
while (i < 200_000 && Date.now() - t0 < 30_000) {
  for (let k = 0; k < 100; k++, i++) {
    run.append('requests', { request_id: `q${i}`, endpoint: 'e', protocol: 'sim', phase: 'main', status: 'ok', sent_ns: i * 10, done_ns: i * 10 + 5, ...{ note: 'x' } });
  }
  run.flush();
  process.stdout.write(`flushed ${i}\n`);
  await new Promise((r) => setTimeout(r, 2));
}
run.finish('complete');
