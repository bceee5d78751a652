-- request_metrics: every request with its latency metrics, the one place they are computed (the glossary's formulas).
-- inputs: requests
-- grain: run × request (every column of requests, then the metrics)
-- formulas: TTFT = first_token_ns - sent_ns (first non-empty content token; vLLM's client counts the role-only chat chunk);
--   TPOT = (last_token_ns - first_token_ns) / (output_tokens - 1), only output_tokens > 1 (vLLM "TPOT", GuideLLM/AIPerf "ITL");
--   E2E = last_token_ns - sent_ns; send lag = sent_ns - scheduled_ns; user-visible latency = last_token_ns - scheduled_ns;
--   end_ns = coalesce(done_ns, last_token_ns); is_ok = status = 'ok'. A metric whose timestamps are missing is NULL.
--   ITL (gaps between chunks) is per request in request_itl.
-- units: *_ns integer nanoseconds (for exact quantiles over timestamps), *_ms milliseconds (= *_ns / 1e6).
SELECT *,
  status = 'ok' AS is_ok,
  coalesce(done_ns, last_token_ns) AS end_ns,
  first_token_ns - sent_ns AS ttft_ns,
  (first_token_ns - sent_ns) / 1e6 AS ttft_ms,
  CASE WHEN output_tokens > 1 THEN (last_token_ns - first_token_ns) / 1e6 / (output_tokens - 1) END AS tpot_ms,
  last_token_ns - sent_ns AS e2e_ns,
  (last_token_ns - sent_ns) / 1e6 AS e2e_ms,
  sent_ns - scheduled_ns AS send_lag_ns,
  (sent_ns - scheduled_ns) / 1e6 AS send_lag_ms,
  last_token_ns - scheduled_ns AS user_latency_ns,
  (last_token_ns - scheduled_ns) / 1e6 AS user_latency_ms
FROM requests
