-- loadtest_details: the results JSON's `details`, one row per request in the old tool's fields.
-- inputs: request_metrics
-- depends: (none)
-- grain: run × request (phase 'main'; requests cancelled at the end of the test left out, as in the summary)
-- formulas: start_ts = sent_unix_ms / 1000 (wall clock, for lining up with server logs);
--   latency = (last_token_ns − sent_ns) / 1e9 when the request finished, else (end_ns − sent_ns) / 1e9;
--   end_ts = start_ts + latency; ttft = (first_token_ns − sent_ns) / 1e9; tps = output_tokens / latency;
--   error = NULL when ok, else the error text (or the status).
-- units: *_ts Unix seconds, ttft and latency seconds, tps tokens per second.
SELECT run, coalesce(json_extract_string(extra, '$.scenario'), 'main') AS scenario,
  request_id, endpoint,
  sent_unix_ms / 1000.0 AS start_ts,
  sent_unix_ms / 1000.0 + coalesce(e2e_ns, end_ns - sent_ns) / 1e9 AS end_ts,
  ttft_ns / 1e9 AS ttft,
  coalesce(e2e_ns, end_ns - sent_ns) / 1e9 AS latency,
  output_tokens,
  CASE WHEN is_ok AND e2e_ns > 0 THEN output_tokens / (e2e_ns / 1e9) END AS tps,
  CASE WHEN is_ok THEN NULL ELSE coalesce(error, status) END AS error
FROM request_metrics
WHERE phase = 'main' AND status <> 'cancelled'
ORDER BY run, scenario, sent_ns, request_id
