// Regression tests for --help: argument and option descriptions start in one column, a flag
// too long for that column never runs into its description, and examples do not write into the repo.
import { describe, expect, it, vi } from 'vitest';
import { run as runs } from '../../analysis/cmd-runs.ts';
import { type CommandSpec, helpText } from '../../core/args.ts';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'a demo command',
  positionals: [{ name: 'run', help: 'run folder', required: true }],
  options: {
    data: { type: 'string', metavar: 'DIR', help: 'archive root', default: 'data' },
    'max-num-batched-tokens': { type: 'integer', help: 'token budget per step', default: 8192 },
    json: { type: 'boolean', short: 'j', help: 'print JSON' },
  },
  examples: ['servelab demo r1'],
};

/** Column at which `text` starts on the line that holds it. */
function column(help: string, text: string): number {
  const line = help.split('\n').find((l) => l.includes(text));
  expect(line, `no line holds ${text}`).toBeDefined();
  return line!.indexOf(text);
}

describe('helpText layout', () => {
  const help = helpText(spec);

  it('starts argument and option descriptions in the same column', () => {
    const col = column(help, 'run folder');
    expect(column(help, 'archive root')).toBe(col);
    expect(column(help, 'print JSON')).toBe(col);
    expect(column(help, 'show this help')).toBe(col);
  });

  it('puts the text of a flag longer than the column on its own line, aligned', () => {
    const lines = help.split('\n');
    const i = lines.findIndex((l) => l.includes('--max-num-batched-tokens INTEGER'));
    expect(lines[i]!.trim()).toBe('--max-num-batched-tokens INTEGER');
    expect(lines[i + 1]!.indexOf('token budget per step')).toBe(column(help, 'archive root'));
    expect(lines[i + 1]).toContain('[default: 8192]');
  });
});

describe('runs finalize / repair examples', () => {
  it('work on a copy, never on the committed sample archive (finalize rewrites its manifest)', async () => {
    for (const sub of ['finalize', 'repair']) {
      let text = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((text += String(s)), true));
      try {
        expect(await runs([sub, '--help'])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      const examples = text.slice(text.indexOf('Examples:')).split('\n').slice(1).filter((l) => l.trim());
      expect(examples.length).toBeGreaterThan(0);
      for (const e of examples) expect(e, e).not.toMatch(/--data data\/samples/);
    }
  });
});
