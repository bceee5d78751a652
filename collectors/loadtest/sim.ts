// `loadtest --sim PRESET`: the built-in simulated servers of a preset in this process, each config
// server sent to the preset server of the same name (else the one in the same position).
import { usageError } from '../../core/errors.ts';
import { presetConfigs, presetNames } from '../../simulator/server/presets.ts';
import { startSimServers } from '../../simulator/server/server.ts';
import type { LoadtestConfig } from './config.ts';

export async function startSim(preset: string, cfg: LoadtestConfig): Promise<{ config: LoadtestConfig; close: () => Promise<void> }> {
  if (!presetNames().includes(preset)) presetConfigs(preset); // throws the usage error with the choices
  const servers = await startSimServers(presetConfigs(preset, { port: 0 }));
  const endpoints = cfg.endpoints.map((e, i) => {
    const s = servers.find((x) => x.config.name.toLowerCase() === e.name.toLowerCase()) ?? servers[i];
    if (!s) throw usageError(`--sim ${preset}: it starts ${servers.length} server(s), the config names ${cfg.endpoints.length}; pick a preset with one per config server`);
    return { ...e, baseUrl: s.url };
  });
  return { config: { ...cfg, endpoints }, close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
}
