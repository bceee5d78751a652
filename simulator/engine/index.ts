// The token-level engine's public surface: createEngine and the parts a driver or test may
// configure (KV blocks, LoRA slots, the content-dependent MoE router, waiting-queue orders).
export { createEngine, type Engine } from './engine.ts';
export { type EngineConfig, type Policy, POLICIES, isPolicy } from './config.ts';
export { BlockManager } from './kv.ts';
export { LoraManager, type LoraConfig, type LoraStats } from './lora.ts';
export { createMoeRouter, type MoeRouter, type MoeRouterConfig, type MoeStepLoad } from './moe-router.ts';
export { Heap } from './heap.ts';
export { byPriority } from './seq.ts';
