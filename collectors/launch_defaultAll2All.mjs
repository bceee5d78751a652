#!/usr/bin/env zx
// launch_defaultAll2All.sh as zx: the DefaultAll2All vLLM server (FlashInfer MoE, expert parallel
// EP=4, the default all2all backend), in the foreground until Ctrl-C.
//
// usage: collectors/launch_defaultAll2All.mjs [MODEL] [PORT] [BATCH_TOKENS] [MAX_SEQS] [MAX_MODEL_LEN] [EP_SIZE] [--dry-run] [--sim]
//        [--all2all-backend NAME] [--all2all-env]   (pass the backend as VLLM_ALL2ALL_BACKEND, for older vLLM builds)
//   defaults: mistralai/Mixtral-8x7B-v0.1 8000 8192 32 4096 4; VLLM_USE_FLASHINFER_MOE_FP16=1
import { runLauncher } from './launchers/launch-common.mjs';

await runLauncher({
  name: 'all2all',
  preset: 'moe-all2all',
  positionals: ['MODEL', 'PORT', 'BATCH_TOKENS', 'MAX_SEQS', 'MAX_MODEL_LEN', 'EP_SIZE'],
  build: (L, k) => L.vllmAll2All(k),
});
