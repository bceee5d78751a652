import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { progressLine } from '../../collectors/progress.ts';
import { countTokens } from '../../collectors/tokenizer.ts';
import { loadPromptsFile } from '../../collectors/workloads/prompts-file.ts';
import { loadShareGpt } from '../../collectors/workloads/sharegpt.ts';
import { syntheticPrompts } from '../../collectors/workloads/synthetic.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-wl-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 7}`).join(' ');

describe('workloads', () => {
  it('ShareGPT: conversations[0]/[1], vLLM filters, seeded, oversampled', () => {
    const file = path.join(dir, 'sg.json');
    const entries = [
      { conversations: [{ from: 'human', value: words(20) }, { from: 'gpt', value: words(30) }] },
      { conversations: [{ from: 'human', value: 'hi' }, { from: 'gpt', value: words(30) }] }, // prompt < 4 tokens
      { conversations: [{ from: 'human', value: words(900) }, { from: 'gpt', value: words(30) }] }, // prompt > 1024 tokens
      { conversations: [{ from: 'human', value: words(10) }] }, // one turn: dropped like vLLM
      { conversations: [{ from: 'human', value: words(12) }, { from: 'gpt', value: words(8) }] },
    ];
    fs.writeFileSync(file, JSON.stringify(entries, null, 1));
    const items = loadShareGpt({ path: file, numPrompts: 5, seed: 1 });
    expect(items.length).toBe(5);
    expect(new Set(items.map((i) => i.prompt))).toEqual(new Set([words(20), words(12)]));
    expect(items.every((i) => i.base!.prompt_tokens_client === countTokens(i.prompt))).toBe(true);
    const fixed = loadShareGpt({ path: file, numPrompts: 2, seed: 1, outputLen: 64, oversample: false });
    expect(fixed.map((i) => [i.maxTokens, i.ignoreEos])).toEqual([[64, true], [64, true]]);
    expect(loadShareGpt({ path: file, numPrompts: 5, seed: 1 }).map((i) => i.prompt)).toEqual(items.map((i) => i.prompt));
  });

  it('ShareGPT: a malformed entry fails with file:line, or is skipped with lenient', () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '[\n  {"conversations": [{"value": "a b c d e"}, {"value": "a b c d e"}]},\n  {"conversations": "oops"}\n]\n');
    expect(() => loadShareGpt({ path: file, numPrompts: 1 })).toThrow(`${file}:3: entry 1: conversations: missing or not an array`);
    const warned: string[] = [];
    expect(loadShareGpt({ path: file, numPrompts: 1, lenient: true, warn: (m) => warned.push(m) }).length).toBe(1);
    expect(warned[0]).toMatch(/:3: entry 1/);
  });

  it('synthetic prompts have the exact token count after the prefix; words mode counts words', () => {
    const items = syntheticPrompts({ num: 5, seed: 3, inputLen: 50, outputLen: 16 });
    expect(items.map((i) => countTokens(i.prompt))).toEqual([50, 50, 50, 50, 50]);
    expect(items.every((i) => i.maxTokens === 16 && i.ignoreEos)).toBe(true);
    const w = syntheticPrompts({ num: 3, seed: 3, inputLen: 12, unit: 'words', prefix: 'Please summarize the following text: ' });
    expect(w.every((i) => i.prompt.startsWith('Please summarize the following text: ') && i.base!.prompt_words === 12 + 5)).toBe(true);
    const ranged = syntheticPrompts({ num: 20, seed: 3, inputLen: 40, rangeRatio: 0.5, unit: 'words' });
    const lens = ranged.map((i) => i.base!.prompt_words as number);
    expect(Math.min(...lens)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...lens)).toBeLessThanOrEqual(60);
  });

  it('a prompts file: one per line, or JSONL with prompt / max_tokens / model_id', () => {
    const txt = path.join(dir, 'p.txt');
    fs.writeFileSync(txt, 'first prompt\n\nsecond prompt\n');
    expect(loadPromptsFile({ path: txt }).map((i) => i.prompt)).toEqual(['first prompt', 'second prompt']);
    const jl = path.join(dir, 'p.jsonl');
    fs.writeFileSync(jl, '{"prompt":"a","max_tokens":5,"model_id":7}\nnot json\n');
    expect(() => loadPromptsFile({ path: jl })).toThrow(`${jl}:2: not JSON`);
    const ok = loadPromptsFile({ path: jl, lenient: true });
    expect(ok.map((i) => [i.prompt, i.maxTokens, i.adapter])).toEqual([['a', 5, '7']]);
  });

  it('the plain progress line has the load tester format', () => {
    const line = progressLine(30, 20, { requests: 145, errors: 0, tokens: 1749, latenciesS: [1, 2, 2.45, 2.45, 2.45, 2.45, 2.45, 2.45, 2.45, 2.45, 2.45] }, 90);
    expect(line).toBe('[Progress @ 30s] Active Users: 20 | Requests: 145 | RPS: 4.8 | TPS: 58.3 tok/s | P90 Latency: 2.45s | Errors: 0.0% | Time Left: 90s');
  });
});

describe('client tokenizer', () => {
  it('the piecewise cached count equals the library encode without BOS', async () => {
    const { countTokensWhole } = await import('../../collectors/tokenizer.ts');
    const texts = ['Hello world, this is a test.', '  two  spaces ', 'tabs\tand\nnew lines\n\n  indented', 'café 日本語 🎉', 'for (let i = 0; i < n; i++) { x += y; }', 'trailing   ', ' ', 'a'];
    for (const t of texts) expect(countTokens(t), JSON.stringify(t)).toBe(countTokensWhole(t));
    expect(countTokens('hi')).toBe(1); // '▁hi': the dummy prefix space, no BOS
    expect(countTokens('')).toBe(0);
  });
});
