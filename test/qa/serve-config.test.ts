// Regression tests for `sim serve` configuration errors found in QA: a TP that does not divide
// the heads is named as such (not as a GPU split), flag problems are usage errors naming the
// flag, and a config file's bad model names the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../core/args.ts';
import { CliError } from '../../core/errors.ts';
import { resolveConfigs, spec } from '../../simulator/server/cmd-serve.ts';

const resolve = (argv: string[]) => resolveConfigs(parseArgs(spec, argv), {});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-serve-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function error(argv: string[]): CliError {
  try {
    resolve(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('sim serve configuration errors', () => {
  it('--tp that does not divide the heads lists the valid degrees (exit 2)', () => {
    const e = error(['--tp', '3']);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe("--tp: 3 does not divide Llama-3-8B's 32 attention heads / 8 KV heads: valid TP degrees are 1, 2, 4, 8, 16, 32");
  });

  it('an unknown --model lists the presets without a hint at a flag sim serve lacks', () => {
    const e = error(['--model', 'Llama-9B']);
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^unknown model: 'Llama-9B' is not one of 'Llama-3-8B'/);
    expect(e.details.join('\n')).not.toMatch(/--model-config/);
  });

  it('out-of-range flags are usage errors named by their flag', () => {
    expect(error(['--port', '99999'])).toMatchObject({ exitCode: 2, message: '--port: must be 0–65535, got 99999' });
    expect(error(['--tp', '2', '--gpus', '3'])).toMatchObject({ exitCode: 2, message: '--gpus: 3 GPUs cannot be split into replicas of tp×ep = 2' });
    expect(error(['--fault-error-rate', '2'])).toMatchObject({ exitCode: 2, message: '--fault-error-rate: must be between 0 and 1, got 2' });
  });

  it('a config file names itself and the field', () => {
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'servers:\n  - model: Llama-3-8B\n  - model: Llama-9B\n');
    const e = error(['--config', bad]);
    expect(e.message).toMatch(new RegExp(`^${bad.replace(/[.\\/]/g, '\\$&')}: servers\\[1\\]: model: unknown model: 'Llama-9B' is not one of 'Llama-3-8B'`));
    const tp = path.join(tmp, 'tp.yaml');
    fs.writeFileSync(tp, 'model: Llama-3-8B\ntp: 3\n');
    expect(error(['--config', tp]).message).toMatch(/tp\.yaml: tp: 3 does not divide Llama-3-8B's 32 attention heads/);
  });
});
