#!/usr/bin/env zx
// launch_baseline.sh as zx: the Baseline vLLM server (Triton MoE kernel, tensor parallel TP=4),
// in the foreground until Ctrl-C. --dry-run prints the command line; --sim starts the simulated preset.
//
// usage: collectors/launch_baseline.mjs [MODEL] [PORT] [BATCH_TOKENS] [MAX_SEQS] [MAX_MODEL_LEN] [--dry-run] [--sim]
//   defaults: mistralai/Mixtral-8x7B-v0.1 8000 8192 32 4096; 4 GPUs, TP=4
//   SERVELAB_SIM=1 is the same as --sim; SERVELAB_LOG_DIR sets where server-baseline.log goes (default logs/).
import { runLauncher } from './launchers/launch-common.mjs';

await runLauncher({
  name: 'baseline',
  preset: 'moe-baseline',
  positionals: ['MODEL', 'PORT', 'BATCH_TOKENS', 'MAX_SEQS', 'MAX_MODEL_LEN'],
  build: (L, k) => L.vllmBaseline(k),
});
