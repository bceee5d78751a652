// Tests of models from config.json (simulator/models.ts): parameter counts, KV bytes and FLOPs per
// token against simulation.md, odd architectures, aliases, valid TP degrees, config errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODEL_CONFIG_DIR, checkTp, derive, getModel, loadModelConfig, modelNames, validTpDegrees } from '../../simulator/models.ts';

const within = (actual: number, expected: number, rel: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(rel);

describe('models from config.json', () => {
  it('derives simulation.md §6 parameter counts and KV bytes per token', () => {
    const table: [string, number, number | null, number][] = [
      ['Llama-3-8B', 8.03e9, null, 128],
      ['Llama-3-70B', 70.6e9, null, 320],
      ['Qwen3-32B', 32.8e9, null, 256],
      ['Qwen3-30B-A3B', 30.5e9, 3.35e9, 96],
      ['DeepSeek-R1-Distill-Llama-70B', 70.6e9, null, 320],
      ['Mixtral-8x7B', 46.7e9, 12.9e9, 128],
    ];
    for (const [name, total, active, kvKiB] of table) {
      const d = derive(getModel(name));
      within(d.totalParams, total, 0.005);
      within(d.activeParams, active ?? total, 0.005);
      expect(d.kvBytesPerToken).toBe(kvKiB * 1024);
    }
    expect(derive(getModel('DeepSeek-R1-Distill-Qwen-32B')).totalParams).toBe(32_763_876_352);
  });

  it('FLOPs per token match simulation.md (15/139/64/6.1/64/139/25.5 GFLOP)', () => {
    const expected: Record<string, number> = {
      'Llama-3-8B': 15, 'Llama-3-70B': 139, 'Qwen3-32B': 64, 'Qwen3-30B-A3B': 6.1,
      'DeepSeek-R1-Distill-Qwen-32B': 64, 'DeepSeek-R1-Distill-Llama-70B': 139, 'Mixtral-8x7B': 25.5,
    };
    for (const [name, g] of Object.entries(expected)) within(derive(getModel(name)).flopsPerToken / 1e9, g, 0.02);
  });

  it('handles head_dim ≠ h/n_q, QKV bias, OPT and MHA', () => {
    const q = getModel('Qwen3-32B');
    expect(q.heads * q.headDim).toBe(8192);
    expect(q.hidden).toBe(5120);
    expect(getModel('DeepSeek-R1-Distill-Qwen-32B').qkvBias).toBe(true);
    const opt = getModel('facebook/opt-125m');
    expect(opt).toMatchObject({ arch: 'opt', kvHeads: 12, headDim: 64, intermediate: 3072, tieEmbeddings: true, gatedFfn: false });
    within(derive(opt).totalParams, 125.2e6, 0.002);
    within(derive(getModel('Llama-2-7B')).totalParams, 6.74e9, 0.002);
    expect(derive(getModel('Llama-2-7B')).kvBytesPerToken).toBe(512 * 1024);
  });

  it('resolves aliases the seed simulator used', () => {
    expect(getModel('Llama3-8B').name).toBe('Llama-3-8B');
    expect(getModel('Qwen3').name).toBe('Qwen3-32B');
    expect(getModel('mixtral-8x7b').name).toBe('Mixtral-8x7B');
    expect(getModel('DeepSeek-R1-32B').name).toBe('DeepSeek-R1-Distill-Qwen-32B');
    expect(getModel('DeepSeek-R1-70B').name).toBe('DeepSeek-R1-Distill-Llama-70B');
    expect(getModel('meta-llama/Meta-Llama-3-70B').name).toBe('Llama-3-70B');
    expect(modelNames()).toHaveLength(9);
    expect(() => getModel('Llama-3-9B')).toThrow(/unknown model: 'Llama-3-9B' is not one of .*did you mean 'Llama-3-8B'/);
  });

  it('valid TP degrees divide the heads; KV heads replicate past n_kv', () => {
    expect(validTpDegrees(getModel('DeepSeek-R1-Distill-Qwen-32B'))).toEqual([1, 2, 4, 8]);
    expect(validTpDegrees(getModel('Llama-3-8B'))).toContain(16);
    expect(() => checkTp(getModel('DeepSeek-R1-Distill-Qwen-32B'), 16)).toThrow(/--tp 16 does not divide .* 40 attention heads .*valid TP degrees are 1, 2, 4, 8/);
    expect(() => checkTp(getModel('Llama-3-8B'), 3)).toThrow(/valid TP degrees are 1, 2, 4, 8, 16, 32/);
  });

  it('a config missing a field names the file and the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const cfg = JSON.parse(fs.readFileSync(path.join(MODEL_CONFIG_DIR, 'Meta-Llama-3-8B.json'), 'utf8'));
    delete cfg.intermediate_size;
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify(cfg));
    expect(() => loadModelConfig(file)).toThrow(`${file}: intermediate_size: missing (needed for llama)`);
    fs.writeFileSync(file, JSON.stringify({ ...cfg, intermediate_size: 1, model_type: 'gpt2' }));
    expect(() => loadModelConfig(file)).toThrow(`${file}: model_type: 'gpt2' is not one of`);
    fs.writeFileSync(file, JSON.stringify({ ...cfg, intermediate_size: 14336, num_key_value_heads: 5 }));
    expect(() => loadModelConfig(file)).toThrow(/num_key_value_heads: 5 does not divide num_attention_heads 32/);
    const moe = JSON.parse(fs.readFileSync(path.join(MODEL_CONFIG_DIR, 'Qwen3-30B-A3B.json'), 'utf8'));
    delete moe.moe_intermediate_size;
    fs.writeFileSync(file, JSON.stringify(moe));
    expect(() => loadModelConfig(file)).toThrow(`${file}: moe_intermediate_size: missing (needed for qwen3_moe)`);
  });

  it('a user config.json gives the same numbers as the preset', () => {
    const m = loadModelConfig(path.join(MODEL_CONFIG_DIR, 'Mixtral-8x7B-v0.1.json'));
    expect(m.name).toBe('mistralai/Mixtral-8x7B-v0.1');
    expect(derive(m).totalParams).toBe(derive(getModel('Mixtral-8x7B')).totalParams);
  });
});
