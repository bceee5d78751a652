// Reads the measured requests a replay needs, column-wise (a million requests stay arrays,
// not a million objects): ids, routing keys, send times, token counts and status.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { MeasuredColumns } from './replay.ts';

const COLUMNS = `request_id, endpoint, url, model, adapter, phase, dataset, status,
  CAST(sent_ns AS DOUBLE) AS sent_ns, CAST(scheduled_ns AS DOUBLE) AS scheduled_ns, sent_unix_ms,
  coalesce(prompt_tokens_server, prompt_tokens_client) AS prompt_tokens, output_tokens, prompt_hash`;

/** The run's requests (the catalog's view), ordered by send time; `prompts` maps prompt_hash → text. */
export async function readMeasured(conn: DuckDBConnection, prompts?: Map<string, string>): Promise<MeasuredColumns> {
  const reader = await conn.runAndReadAll(`SELECT ${COLUMNS} FROM requests ORDER BY coalesce(sent_ns, scheduled_ns), request_id`);
  const c = reader.getColumnsObjectJS() as Record<string, unknown[]>;
  const num = (xs: unknown[]) => xs.map((x) => (x === null || x === undefined ? null : Number(x)));
  const hashes = c.prompt_hash as (string | null)[];
  return {
    request_id: c.request_id as string[],
    endpoint: c.endpoint as (string | null)[],
    url: c.url as (string | null)[],
    model: c.model as (string | null)[],
    adapter: c.adapter as (string | null)[],
    phase: c.phase as (string | null)[],
    dataset: c.dataset as (string | null)[],
    status: c.status as string[],
    sent_ns: num(c.sent_ns!),
    scheduled_ns: num(c.scheduled_ns!),
    sent_unix_ms: num(c.sent_unix_ms!),
    prompt_tokens: num(c.prompt_tokens!),
    output_tokens: num(c.output_tokens!),
    content: prompts && prompts.size ? hashes.map((h) => (h ? (prompts.get(h) ?? null) : null)) : hashes.map(() => null),
  };
}
