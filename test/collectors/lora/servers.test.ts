// The LoRA server as text: vLLM with --enable-lora, M GPU slots, N CPU adapters written as PEFT
// folders with the base model's shapes; the user's /generate server; the simulated one; bad N/M.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { commandText, serverCommand } from '../../../collectors/launchers/index.ts';
import { adapterTensors, writeDummyAdapters } from '../../../collectors/launchers/peft.ts';
import { loraServerSpec, splitCommand, type LoraServerKnobs } from '../../../collectors/lora/servers.ts';
import { getModel } from '../../../simulator/models.ts';

const knobs = (over: Partial<LoraServerKnobs>): LoraServerKnobs => ({
  server: 'vllm', model: 'facebook/opt-125m', totalLoras: 4, gpuLoras: 2, port: 8000, useDummyWeights: true, dtype: 'auto',
  gpuMemoryUtilization: 0.9, maxNumSeqs: 16, maxLoraRank: 8, ...over,
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-lora-adapters-'));
  onTestFinished(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

describe('lora servers', () => {
  it('vLLM: --enable-lora with M GPU slots, N CPU adapters lora-i=path, dummy weights, the old server\'s knobs', () => {
    const dir = tmp();
    const text = commandText(serverCommand(loraServerSpec(knobs({ adapterDir: dir, tokenizer: 'hf-internal-testing/llama-tokenizer', seed: 42 }))));
    expect(text).toBe(
      `vllm serve facebook/opt-125m --port 8000 --host 127.0.0.1 --max-num-seqs 16 --gpu-memory-utilization 0.9 --enable-lora --max-loras 2 --max-cpu-loras 4 --max-lora-rank 8 ` +
        `--lora-modules lora-0=${dir}/lora-0 lora-1=${dir}/lora-1 lora-2=${dir}/lora-2 lora-3=${dir}/lora-3 --load-format dummy --dtype auto ` +
        `--tokenizer hf-internal-testing/llama-tokenizer --seed 42`,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(['lora-0', 'lora-1', 'lora-2', 'lora-3']);
  });

  it('PEFT adapters: config and a safetensors file with lora_A [r, in] and lora_B [out, r] per layer and target module', () => {
    const dir = tmp();
    const opt = getModel('facebook/opt-125m');
    writeDummyAdapters(dir, opt, 1, { rank: 8, baseModel: 'facebook/opt-125m' });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'lora-0', 'adapter_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'facebook/opt-125m' });
    const buf = fs.readFileSync(path.join(dir, 'lora-0', 'adapter_model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    const a = header['base_model.model.model.decoder.layers.0.self_attn.q_proj.lora_A.weight'];
    const b = header['base_model.model.model.decoder.layers.11.self_attn.v_proj.lora_B.weight'];
    expect(a).toEqual({ dtype: 'F16', shape: [8, 768], data_offsets: [0, 8 * 768 * 2] });
    expect(b.shape).toEqual([768, 8]);
    // 12 layers × 2 modules × (A + B), each 8·768 halves, after the 8-byte length and the header
    expect(buf.length).toBe(8 + n + 12 * 2 * 2 * 8 * 768 * 2);
    expect((8 + n) % 8).toBe(0);
    // LLaMA with grouped KV heads: v_proj's output is kv_heads × head_dim
    const llama3 = getModel('Llama-3-8B');
    const v = adapterTensors(llama3, { rank: 16, baseModel: 'x' }).find(([k]) => k === 'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight');
    expect(v?.[1]).toEqual([8 * 128, 16]);
  });

  it('your /generate server and the simulated one', () => {
    const g = serverCommand(loraServerSpec(knobs({ server: 'generate', command: "python run_server_single_engine.py --note 'a b'" })));
    expect(commandText(g)).toBe(
      "python run_server_single_engine.py --note 'a b' --port 8000 --total-loras 4 --gpu-loras 2 --model facebook/opt-125m --use-dummy-weights --dtype auto --gpu-memory-utilization 0.9 --max-num-seqs 16",
    );
    expect(splitCommand(`a "b c" 'd e' f`)).toEqual(['a', 'b c', 'd e', 'f']);
    const s = serverCommand(loraServerSpec(knobs({ server: 'sim', port: 0, seed: 1 })));
    expect(s.args.slice(1).join(' ')).toBe('sim serve --preset lora --port 0 --seed 1 --model facebook/opt-125m --total-loras 4 --gpu-loras 2 --max-loras 2 --max-num-seqs 16 --max-lora-rank 8');
  });

  it('bad N and M are usage errors naming the flags', () => {
    expect(() => loraServerSpec(knobs({ gpuLoras: 5 }))).toThrow(/--gpu-loras 5 is more than --total-loras 4/);
    expect(() => loraServerSpec(knobs({ gpuLoras: 0 }))).toThrow(/--gpu-loras: 0 must be a whole number ≥ 1/);
    expect(() => loraServerSpec(knobs({ server: 'generate' }))).toThrow(/--server generate needs --command/);
  });
});
