// Server launchers: one `kind`-tagged spec per server (vllm, llamacpp, generate, external, sim),
// its command line and readiness rule, and start/stop with log capture.
export * from './types.ts';
export { commandBuilders, serverCommand, vllmBaseline, vllmAll2All, MOE_DEFAULTS, SERVELAB_ENTRY, type MoeLaunchKnobs } from './commands.ts';
export { startServer, stopServersOnSignal, runningServers, errorLines, exitMeaning, defaultEffects, type RunningServer, type StartOptions, type LaunchEffects } from './process.ts';
