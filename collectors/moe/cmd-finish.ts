// `servelab moe finish RUN --status complete|incomplete|failed`: the pipeline's last word on a run
// (manifest status, servers, dataset counts), written atomically (collectors/run-steps.ts).
import { finishCommand } from '../run-steps.ts';
import { readProgress } from './progress.ts';

export const { spec, run } = finishCommand('moe', {
  counts: (dir) => {
    const progress = [...readProgress(dir).values()];
    return { datasets_ok: progress.filter((e) => e.status === 'ok').length, datasets_failed: progress.filter((e) => e.status === 'failed').length };
  },
});
