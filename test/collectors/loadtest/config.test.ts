// The load tester's YAML: the two old example files read unchanged, and every bad input of the
// issue answered with FILE:line:column, the field and what to write instead.
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../collectors/loadtest/config.ts';
import { CliError } from '../../../core/errors.ts';

function errorOf(text: string): CliError {
  try {
    parseConfig(text, 'lt.yaml');
  } catch (e) {
    return e as CliError;
  }
  throw new Error('no error');
}

const SERVER = 'server:\n  base_url: "http://127.0.0.1:8080/completion"\n';

describe('loadtest config', () => {
  it('reads the old example files unchanged', () => {
    const one = loadConfig('data/configs/workload.yaml');
    expect(one.mixed).toBe(false);
    expect(one.endpoints).toEqual([{ name: 'llama-2-7b-chat', baseUrl: 'http://127.0.0.1:8080', path: '/completion', protocol: 'llamacpp', model: 'llama-2-7b-chat', weight: 1 }]);
    expect(one.workload).toEqual({ users: 20, durationS: 120, rampUpS: 10, seed: 42 });
    expect(one.prompts).toEqual({ minTokens: 50, maxTokens: 200, prefix: 'Please summarize the following text: ' });
    expect(one.push).toBeNull();
    const mixed = loadConfig('data/configs/mixed_warfare.yaml');
    expect(mixed.endpoints.map((e) => [e.name, e.baseUrl, e.weight])).toEqual([
      ['Thinker', 'http://127.0.0.1:8080', 0.3],
      ['Flash', 'http://127.0.0.1:8081', 0.7],
    ]);
    expect(mixed.analysis).toEqual({ errorRateMax: 0.01, p90LatencyMaxS: 2, ttftExcellentS: 0.5 });
  });

  it('the protocol follows the URL; Pushgateway settings with auth', () => {
    const c = parseConfig(
      'server:\n  base_url: "http://h:8000/v1/chat/completions"\nprometheus:\n  enabled: true\n  pushgateway_url: "http://pg:9091/"\n  job_name: j\n  username: admin\n  password: secret\nanalysis:\n  ttft_excellent_seconds: 0.2\n',
      'x.yaml',
    );
    expect(c.endpoints[0]!.protocol).toBe('openai-chat');
    expect(c.push).toEqual({ url: 'http://pg:9091', job: 'j', instance: 'local_test', intervalS: 5, username: 'admin', password: 'secret' });
    expect(c.analysis.ttftExcellentS).toBe(0.2);
  });

  it('a YAML error, at its line and column', () => {
    const e = errorOf('server:\n  base_url: "http://h:1/completion"\nworkload:\n  users: [1\n');
    expect(e.message).toMatch(/^lt\.yaml:\d+:\d+: not valid YAML: /);
    expect(e.exitCode).toBe(2);
  });

  it('an unknown key, with did-you-mean and the valid keys', () => {
    const e = errorOf(`${SERVER}workload:\n  usrs: 3\n`);
    expect(e.message).toBe("lt.yaml:4:3: workload.usrs: unknown key (did you mean 'users'?); valid keys: users, duration_seconds, ramp_up_seconds, seed");
  });

  it('users: 0 and a negative duration, each at its value', () => {
    const e = errorOf(`${SERVER}workload:\n  users: 0\n  duration_seconds: -5\n`);
    expect(e.message).toBe('lt.yaml:4:10: workload.users: 0 must be >= 1 (at least one virtual user)');
    expect(e.details).toEqual(['lt.yaml:5:21: workload.duration_seconds: -5 must be > 0 seconds']);
  });

  it('weights that do not sum to a positive number', () => {
    const e = errorOf('servers:\n  - name: A\n    base_url: "http://h:1/completion"\n    weight: 0\n  - name: B\n    base_url: "http://h:2/completion"\n    weight: 0\n');
    expect(e.message).toBe('lt.yaml:1:1: servers: weights sum to 0; give each server a weight > 0 (e.g. 0.3 and 0.7)');
    expect(errorOf('servers:\n  - name: A\n    base_url: "http://h:1/completion"\n    weight: -1\n').message).toBe('lt.yaml:4:13: servers[0].weight: -1 must be >= 0');
  });

  it('a Pushgateway URL without a scheme, with the URL to write', () => {
    const e = errorOf(`${SERVER}prometheus:\n  enabled: true\n  pushgateway_url: "localhost:9091"\n`);
    expect(e.message).toBe('lt.yaml:5:20: prometheus.pushgateway_url: \'localhost:9091\' has no http:// or https:// scheme; write "http://localhost:9091"');
  });

  it('a server URL whose path names no protocol, and a missing server', () => {
    expect(errorOf('server:\n  base_url: "http://h:1/foo"\n').message).toMatch(/^lt\.yaml:2:13: server\.base_url: path '\/foo' names no protocol; end the URL with \/completion \(llamacpp\)/);
    expect(errorOf('workload:\n  users: 2\n').message).toMatch(/^lt\.yaml:1:1: server: missing: give server:/);
    expect(errorOf(`${SERVER}workload:\n  users: "many"\n`).message).toBe('lt.yaml:4:10: workload.users: must be a whole number, got "many"');
  });
});
