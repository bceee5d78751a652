-- predicted_request_metrics: every predicted request (servelab sim predict) with the glossary's latency metrics.
-- inputs: predicted_requests
-- grain: run × request (every column of predicted_requests, then the metrics)
-- formulas: as request_metrics (the same definitions on the serving model's clock, which is the measured run's:
--   a request arrives at its measured sent_ns): TTFT = first_token_ns - sent_ns; TPOT = (last_token_ns - first_token_ns)
--   / (output_tokens - 1), only output_tokens > 1; E2E = last_token_ns - sent_ns; end_ns = coalesce(done_ns, last_token_ns);
--   is_ok = status = 'ok'.
-- units: *_ns integer nanoseconds, *_ms milliseconds (= *_ns / 1e6).
SELECT *,
  status = 'ok' AS is_ok,
  coalesce(done_ns, last_token_ns) AS end_ns,
  first_token_ns - sent_ns AS ttft_ns,
  (first_token_ns - sent_ns) / 1e6 AS ttft_ms,
  CASE WHEN output_tokens > 1 THEN (last_token_ns - first_token_ns) / 1e6 / (output_tokens - 1) END AS tpot_ms,
  last_token_ns - sent_ns AS e2e_ns,
  (last_token_ns - sent_ns) / 1e6 AS e2e_ms
FROM predicted_requests
