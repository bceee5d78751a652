// Credentials never reach a run's files: a URL's user:password goes into an Authorization
// header and out of the URL; API keys and header values are redacted wherever a manifest,
// a record or a report would show them. createRun applies scrubSecrets to all it writes.

export const REDACTED = '<redacted>';

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;
const SECRET_KEY = /^(api[-_]?key|(.*[-_])?(auth[-_]?)?token|(.*[-_])?secret|(.*[-_])?password|passwd|authorization|cookie|headers?)$/i;

/** A URL without its user:password part, and the Basic Authorization header it carried (if any). */
export function splitUserinfo(url: string): { url: string; authorization?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url: url.replace(USERINFO, '$1') };
  }
  if (!u.username && !u.password) return { url };
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  return { url: url.replace(USERINFO, '$1'), authorization };
}

/** A command line with URL userinfo, --api-key values and --header values replaced. */
export function scrubCommand(text: string): string {
  return text
    .replace(USERINFO, '$1')
    .replace(/(--api-key[= ])\S+/g, `$1${REDACTED}`)
    .replace(/(--header[= ])(['"]?)([^:'"\s]+):[^'"]*\2/g, `$1$2$3: ${REDACTED}$2`);
}

/**
 * A deep copy with secrets removed: URL userinfo in any string, and the value of any key that
 * names a secret (api key, token, password, authorization, headers) replaced by <redacted>.
 */
export function scrubSecrets<T>(value: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (key !== undefined && SECRET_KEY.test(key) && v !== null && v !== undefined && v !== false) {
      if (Array.isArray(v)) return v.map((h) => (typeof h === 'string' && h.includes(':') ? `${h.slice(0, h.indexOf(':'))}: ${REDACTED}` : REDACTED));
      return REDACTED;
    }
    if (typeof v === 'string') return v.replace(USERINFO, '$1');
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(value) as T;
}

/** `--header 'Name: value'` → [name, value], or undefined when there is no colon or no name. */
export function parseHeader(text: string): [string, string] | undefined {
  const i = text.indexOf(':');
  if (i <= 0) return undefined;
  const name = text.slice(0, i).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return undefined;
  return [name, text.slice(i + 1).trim()];
}
