// `servelab imbalance finish RUN --status complete|incomplete|failed`: the pipeline's last word on
// a run (manifest status, servers), written atomically (collectors/run-steps.ts).
import { finishCommand } from '../run-steps.ts';

export const { spec, run } = finishCommand('imbalance');
