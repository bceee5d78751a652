// The load tester's YAML config (the old tool's files, read unchanged): a JSON Schema checked by
// ajv, each error placed at FILE:line:column through yaml's LineCounter, then resolved into typed
// endpoints, workload, prompts, Pushgateway and analysis thresholds with the old defaults.
import fs from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import YAML, { isMap, isPair, isScalar, LineCounter, type Node } from 'yaml';
import { CliError, ExitCode, choiceList, nearest } from '../../core/errors.ts';
import { type Protocol, protocolForPath, PROTOCOL_PATH } from '../protocols.ts';

const url = { type: 'string', minLength: 1 } as const;
const SERVER_KEYS = { name: { type: 'string', minLength: 1 }, base_url: url, model_alias: { type: 'string' }, weight: { type: 'number', minimum: 0 } };

/** The config's JSON Schema (draft-07); unknown keys are errors everywhere. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: { type: 'object', additionalProperties: false, required: ['base_url'], properties: SERVER_KEYS },
    servers: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: false, required: ['name', 'base_url'], properties: SERVER_KEYS } },
    workload: {
      type: 'object',
      additionalProperties: false,
      properties: {
        users: { type: 'integer', minimum: 1 },
        duration_seconds: { type: 'number', exclusiveMinimum: 0 },
        ramp_up_seconds: { type: 'number', minimum: 0 },
        seed: { type: 'integer' },
      },
    },
    prompts: {
      type: 'object',
      additionalProperties: false,
      properties: { min_tokens: { type: 'integer', minimum: 1 }, max_tokens: { type: 'integer', minimum: 1 }, prefix: { type: 'string' } },
    },
    prometheus: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        pushgateway_url: { type: 'string', pattern: '^https?://[^/\\s]+' },
        job_name: { type: 'string', minLength: 1 },
        instance_name: { type: 'string', minLength: 1 },
        push_interval_seconds: { type: 'number', exclusiveMinimum: 0 },
        username: { type: 'string' },
        password: { type: 'string' },
      },
    },
    analysis: {
      type: 'object',
      additionalProperties: false,
      properties: {
        error_rate_max: { type: 'number', minimum: 0, maximum: 1 },
        p90_latency_max_seconds: { type: 'number', exclusiveMinimum: 0 },
        ttft_excellent_seconds: { type: 'number', exclusiveMinimum: 0 },
      },
    },
  },
} as const;

export interface LoadtestEndpoint {
  name: string;
  /** Origin, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  path: string;
  protocol: Protocol;
  model: string | null;
  weight: number;
}

export interface PushConfig {
  url: string;
  job: string;
  instance: string;
  intervalS: number;
  username?: string;
  password?: string;
}

export interface LoadtestConfig {
  file: string;
  /** The file as parsed (the results JSON's `config`). */
  raw: Record<string, unknown>;
  /** `servers:` (several, weighted) rather than `server:` */
  mixed: boolean;
  endpoints: LoadtestEndpoint[];
  workload: { users: number; durationS: number; rampUpS: number; seed: number };
  prompts: { minTokens: number; maxTokens: number; prefix: string };
  push: PushConfig | null;
  analysis: { errorRateMax: number; p90LatencyMaxS: number; ttftExcellentS: number };
}

/** The old tool's defaults (its config/workload.yaml), and the analysis lines' thresholds. */
export const DEFAULTS = {
  users: 20, durationS: 120, rampUpS: 10, seed: 42, minTokens: 50, maxTokens: 200, prefix: '',
  job: 'llm_load_test', instance: 'local_test', pushIntervalS: 5,
  errorRateMax: 0.01, p90LatencyMaxS: 2, ttftExcellentS: 0.5,
} as const;

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const validate = ajv.compile(CONFIG_SCHEMA);

/** A config error: `FILE:line:column: field: problem` (exit 2), further problems as details. */
function configError(lines: string[]): CliError {
  return new CliError(lines[0]!, ExitCode.usage, lines.slice(1));
}

/** Reads and checks a config file; nothing is sent before this returns. */
export function loadConfig(file: string, readFile: (f: string) => string = (f) => fs.readFileSync(f, 'utf8')): LoadtestConfig {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    throw new CliError(`--config: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, ExitCode.usage);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): LoadtestConfig {
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length) {
    throw configError(doc.errors.map((e) => `${at(e.pos[0])}: not valid YAML: ${e.message.split('\n')[0]}`));
  }
  const data = doc.toJS() as unknown;
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw configError([`${file}:1:1: expected a mapping with server: (or servers:), workload:, prompts:, prometheus:`]);
  }
  const problems: string[] = [];
  if (!validate(data)) {
    for (const e of validate.errors ?? []) problems.push(describe(e, doc.contents, at));
  }
  const d = data as Record<string, unknown>;
  const root = `${file}:1:1`;
  if (!('server' in d) && !('servers' in d)) problems.push(`${root}: server: missing: give server: {base_url, model_alias} or servers: [{name, base_url, model_alias, weight}, …]`);
  if ('server' in d && 'servers' in d) problems.push(`${placeOf(doc.contents, ['servers'], at, true)}: servers: give either server: (one) or servers: (several), not both`);
  const servers = Array.isArray(d.servers) ? (d.servers as Record<string, unknown>[]) : [];
  if (problems.length === 0 && servers.length) {
    const sum = servers.reduce((s, x) => s + (typeof x.weight === 'number' ? x.weight : 1), 0);
    if (!(sum > 0)) problems.push(`${placeOf(doc.contents, ['servers'], at, true)}: servers: weights sum to ${sum}; give each server a weight > 0 (e.g. 0.3 and 0.7)`);
    const names = servers.map((s) => s.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) problems.push(`${placeOf(doc.contents, ['servers', i, 'name'], at)}: servers[${i}].name: '${String(n)}' is used twice; names label the breakdown`);
    });
  }
  const entries = servers.length ? servers : d.server ? [d.server as Record<string, unknown>] : [];
  const endpoints: LoadtestEndpoint[] = [];
  if (problems.length === 0) {
    entries.forEach((s, i) => {
      const where = servers.length ? ['servers', i, 'base_url'] : ['server', 'base_url'];
      const field = servers.length ? `servers[${i}].base_url` : 'server.base_url';
      const ep = endpointOf(s, servers.length ? String(s.name) : String(s.model_alias ?? 'default'), (problem) => problems.push(`${placeOf(doc.contents, where, at)}: ${field}: ${problem}`));
      if (ep) endpoints.push(ep);
    });
  }
  if (problems.length) throw configError(problems);
  const w = (d.workload ?? {}) as Record<string, number>;
  const p = (d.prompts ?? {}) as Record<string, unknown>;
  const pr = (d.prometheus ?? {}) as Record<string, unknown>;
  const an = (d.analysis ?? {}) as Record<string, number>;
  if (pr.enabled === true && !pr.pushgateway_url) {
    throw configError([`${placeOf(doc.contents, ['prometheus', 'enabled'], at)}: prometheus.pushgateway_url: missing while enabled: true; e.g. pushgateway_url: "http://localhost:9091"`]);
  }
  return {
    file,
    raw: d,
    mixed: servers.length > 0,
    endpoints,
    workload: { users: w.users ?? DEFAULTS.users, durationS: w.duration_seconds ?? DEFAULTS.durationS, rampUpS: w.ramp_up_seconds ?? DEFAULTS.rampUpS, seed: w.seed ?? DEFAULTS.seed },
    prompts: { minTokens: (p.min_tokens as number) ?? DEFAULTS.minTokens, maxTokens: (p.max_tokens as number) ?? DEFAULTS.maxTokens, prefix: (p.prefix as string) ?? DEFAULTS.prefix },
    push:
      pr.enabled === true
        ? {
            url: String(pr.pushgateway_url).replace(/\/+$/, ''),
            job: (pr.job_name as string) ?? DEFAULTS.job,
            instance: (pr.instance_name as string) ?? DEFAULTS.instance,
            intervalS: (pr.push_interval_seconds as number) ?? DEFAULTS.pushIntervalS,
            ...(pr.username !== undefined ? { username: String(pr.username), password: String(pr.password ?? '') } : {}),
          }
        : null,
    analysis: {
      errorRateMax: an.error_rate_max ?? DEFAULTS.errorRateMax,
      p90LatencyMaxS: an.p90_latency_max_seconds ?? DEFAULTS.p90LatencyMaxS,
      ttftExcellentS: an.ttft_excellent_seconds ?? DEFAULTS.ttftExcellentS,
    },
  };
}

/** The protocol follows the URL's path: /completion llama.cpp, /v1/completions, /v1/chat/completions. */
export function endpointOf(s: Record<string, unknown>, name: string, fail: (problem: string) => void): LoadtestEndpoint | undefined {
  let u: URL;
  try {
    u = new URL(String(s.base_url));
  } catch {
    fail(`'${String(s.base_url)}' is not a URL; e.g. "http://127.0.0.1:8080/completion"`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    fail(`'${String(s.base_url)}' needs http:// or https://, e.g. "http://${String(s.base_url).replace(SCHEME, '')}"`);
    return undefined;
  }
  const path = u.pathname.replace(/\/+$/, '');
  const protocol = path ? protocolForPath(path) : undefined;
  if (!protocol || protocol === 'generate') {
    const paths = ['llamacpp', 'openai-completions', 'openai-chat'] as const;
    fail(`path '${u.pathname}' names no protocol; end the URL with ${paths.map((k) => `${PROTOCOL_PATH[k]} (${k})`).join(', ')}`);
    return undefined;
  }
  return { name, baseUrl: u.origin, path: path + u.search, protocol, model: typeof s.model_alias === 'string' ? s.model_alias : null, weight: typeof s.weight === 'number' ? s.weight : 1 };
}

/** One ajv error as `FILE:line:column: field: problem`. */
function describe(e: ErrorObject, root: unknown, at: (offset: number) => string): string {
  const segs = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
  const field = fieldName(segs);
  const parentSchema = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const valid = Object.keys(parentSchema?.properties ?? {});
      const close = nearest(key, valid);
      return `${placeOf(root, [...segs, key], at, true)}: ${fieldName([...segs, key])}: unknown key${close ? ` (did you mean '${close}'?)` : ''}; valid keys: ${valid.join(', ')}`;
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return `${placeOf(root, segs, at, true)}: ${fieldName([...segs, key])}: missing (required)`;
    }
    case 'type':
      return `${placeOf(root, segs, at)}: ${field}: must be ${article((e.params as { type: string }).type)}, got ${JSON.stringify(valueAt(root, segs))}`;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum': {
      const { limit, comparison } = e.params as { limit: number; comparison: string };
      const hint = field.endsWith('users') ? ' (at least one virtual user)' : field.endsWith('seconds') ? ' seconds' : '';
      return `${placeOf(root, segs, at)}: ${field}: ${JSON.stringify(valueAt(root, segs))} must be ${comparison} ${limit}${hint}`;
    }
    case 'minItems':
      return `${placeOf(root, segs, at)}: ${field}: list at least one server`;
    case 'minLength':
      return `${placeOf(root, segs, at)}: ${field}: must not be empty`;
    case 'pattern': {
      const v = String(valueAt(root, segs));
      return `${placeOf(root, segs, at)}: ${field}: '${v}' has no http:// or https:// scheme; write "http://${v.replace(SCHEME, '')}"`;
    }
    case 'enum':
      return `${placeOf(root, segs, at)}: ${field}: ${choiceList(String(valueAt(root, segs)), (e.params as { allowedValues: string[] }).allowedValues)}`;
    default:
      return `${placeOf(root, segs, at)}: ${field}: ${e.message ?? 'invalid'}`;
  }
}

function article(t: string): string {
  return { integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list' }[t] ?? t;
}

function fieldName(segs: (string | number)[]): string {
  return segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('') || '(top level)';
}

function valueAt(root: unknown, segs: (string | number)[]): unknown {
  let node = root as Node | null;
  for (const s of segs) node = childOf(node, s)?.value ?? null;
  return node && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node;
}

function childOf(node: unknown, seg: string | number): { key: Node | null; value: Node | null } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
    return pair ? { key: pair.key as Node, value: pair.value as Node | null } : undefined;
  }
  const items = (node as { items?: unknown[] } | null)?.items;
  if (Array.isArray(items) && typeof seg === 'number') return { key: null, value: (items[seg] as Node) ?? null };
  return undefined;
}

/** FILE:line:column of the value at `segs` (or of its key with `key`), else of the deepest node found. */
function placeOf(root: unknown, segs: (string | number)[], at: (offset: number) => string, key = false): string {
  let node = root as Node | null;
  let offset = (root as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < segs.length; i++) {
    const c = childOf(node, segs[i]!);
    if (!c) break;
    const last = i === segs.length - 1;
    const target = last && key && c.key ? c.key : (c.value ?? c.key);
    if (target?.range) offset = target.range[0];
    node = c.value;
  }
  return at(offset);
}
