// Credentials reach the server and nothing else: user:password in --base-url becomes a Basic
// header, --api-key / $OPENAI_API_KEY a Bearer header, --header is sent as given; none of them
// appears in any file of the run (manifest, requests, chunks, result).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../collectors/cmd-bench.ts';
import { scrubCommand, scrubSecrets, splitUserinfo } from '../../core/credentials.ts';
import { CliError } from '../../core/errors.ts';
import { type SseServer, startSseServer } from '../helpers/sse-server.ts';

let srv: SseServer;
let data: string;
beforeAll(async () => {
  srv = await startSseServer({ chunks: 4 });
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'servelab-creds-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(async () => {
  vi.restoreAllMocks();
  delete process.env.OPENAI_API_KEY;
  await srv.close();
  fs.rmSync(data, { recursive: true, force: true });
});

/** Every byte the run wrote, as text. */
function runText(runId: string): string {
  const dir = path.join(data, 'runs/bench', runId);
  const all: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else all.push(fs.readFileSync(f, 'latin1'));
    }
  };
  walk(dir);
  return all.join('\n');
}

const bench = (runId: string, ...extra: string[]) =>
  run(['--data', data, '--run-id', runId, '--dataset-name', 'random', '--random-input-len', '4', '--random-output-len', '4', '--num-prompts', '3', ...extra]);

describe('credentials', () => {
  it('user:password in --base-url: a Basic header to the server, in no file of the run', async () => {
    const url = srv.url.replace('http://', 'http://alice:s3cr3t-pw@');
    const before = srv.seenHeaders.length;
    expect(await bench('basic', '--base-url', url)).toBe(0);
    const seen = srv.seenHeaders.slice(before);
    expect(seen.length).toBe(5); // /sim/config (is it the simulated server?), /v1/models and three requests
    for (const h of seen) expect(h.authorization).toBe(`Basic ${Buffer.from('alice:s3cr3t-pw').toString('base64')}`);
    const text = runText('basic');
    expect(text).not.toContain('s3cr3t-pw');
    expect(text).not.toContain('alice');
    expect(text).toContain(srv.url); // the URL itself is kept
  });

  it('--api-key and $OPENAI_API_KEY: a Bearer header; --header sent as given; values redacted in the manifest', async () => {
    let before = srv.seenHeaders.length;
    expect(await bench('key', '--base-url', srv.url, '--api-key', 'sk-flag-123', '--header', 'X-Team: hidden-team-value')).toBe(0);
    for (const h of srv.seenHeaders.slice(before)) expect(h).toEqual({ authorization: 'Bearer sk-flag-123', 'x-team': 'hidden-team-value' });
    const text = runText('key');
    expect(text).not.toContain('sk-flag-123');
    expect(text).not.toContain('hidden-team-value');
    const manifest = JSON.parse(fs.readFileSync(path.join(data, 'runs/bench/key/manifest.json'), 'utf8'));
    expect(manifest.config).toMatchObject({ 'api-key': '<redacted>', header: ['X-Team: <redacted>'] });
    process.env.OPENAI_API_KEY = 'sk-env-456';
    before = srv.seenHeaders.length;
    expect(await bench('env', '--base-url', srv.url)).toBe(0);
    for (const h of srv.seenHeaders.slice(before)) expect(h.authorization).toBe('Bearer sk-env-456');
    expect(runText('env')).not.toContain('sk-env-456');
  });

  it('a --header without a name or colon is a usage error', async () => {
    await expect(bench('badh', '--base-url', srv.url, '--header', 'no-colon')).rejects.toMatchObject({ exitCode: 2 });
    await expect(bench('badh', '--base-url', srv.url, '--header', 'no-colon')).rejects.toBeInstanceOf(CliError);
  });

  it('scrubbing: command lines, nested config, URLs', () => {
    expect(scrubCommand("servelab bench --base-url http://u:p@h:1 --api-key sk-1 --api-key=sk-2 --header 'Authorization: Bearer x y'")).toBe(
      "servelab bench --base-url http://h:1 --api-key <redacted> --api-key=<redacted> --header 'Authorization: <redacted>'",
    );
    expect(scrubSecrets({ a: { url: 'https://u:p@x/y', hf_token: 't', max_tokens: 5, password: 'p' }, list: ['http://k@h'] })).toEqual({
      a: { url: 'https://x/y', hf_token: '<redacted>', max_tokens: 5, password: '<redacted>' },
      list: ['http://h'],
    });
    expect(splitUserinfo('http://a%40b:p%3A@h:8000/v1')).toEqual({ url: 'http://h:8000/v1', authorization: `Basic ${Buffer.from('a@b:p:').toString('base64')}` });
    expect(splitUserinfo('http://h:8000')).toEqual({ url: 'http://h:8000' });
  });
});
