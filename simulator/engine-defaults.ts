// The serving engine's defaults, one set for `sim run`, `sim serve` and `sim predict`: vLLM's
// batch limits for the GPU (get_batch_defaults), its memory utilization, KV block size and
// the MoE routing skew. A value the user gives always wins; these fill what nobody said.
import { getGpu } from './hardware.ts';

/** vLLM --gpu-memory-utilization default: HBM fraction for weights + KV cache. */
export const GPU_MEMORY_UTILIZATION = 0.9;
/** vLLM --block-size default (CUDA): tokens per KV block. */
export const BLOCK_SIZE = 16;
/** MoE routing skew by prompt topic (the router's default), 0 uniform … 1 all by topic. */
export const MOE_SKEW = 0.7;

const GIB = 2 ** 30;

/**
 * vLLM's batch limits when the launch names none (`get_batch_defaults`, vllm serve): on a GPU
 * with at least 70 GiB that is not an A100 (H100, H200) max_num_seqs 1024 and
 * max_num_batched_tokens 8192; on every other GPU 256 and 2048.
 */
export function batchDefaults(gpuName: string): { maxNumSeqs: number; maxNumBatchedTokens: number } {
  const gpu = getGpu(gpuName);
  const big = gpu.hbmGB * 1e9 >= 70 * GIB && !/a100/i.test(gpu.name);
  return big ? { maxNumSeqs: 1024, maxNumBatchedTokens: 8192 } : { maxNumSeqs: 256, maxNumBatchedTokens: 2048 };
}
