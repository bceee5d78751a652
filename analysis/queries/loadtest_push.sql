-- The load tester's Pushgateway figures so far (llm_* gauges), over the requests written up to now.
-- Parameter: getvariable('elapsed_s'), seconds since the load started. Same formulas as loadtest_summary:
-- latency = last token − sent, TTFT = first token − sent (ok requests, quantile_cont); rates over elapsed_s;
-- error rate = non-ok / counted, contention error rate = (timeouts + HTTP 503) / counted (cancelled left out).
SELECT
  quantile_cont(e2e_ns / 1e9, 0.5) FILTER (WHERE is_ok) AS llm_client_lag_p50_seconds,
  quantile_cont(e2e_ns / 1e9, 0.9) FILTER (WHERE is_ok) AS llm_client_lag_p90_seconds,
  quantile_cont(e2e_ns / 1e9, 0.99) FILTER (WHERE is_ok) AS llm_client_lag_p99_seconds,
  quantile_cont(ttft_ns / 1e9, 0.5) FILTER (WHERE is_ok) AS llm_ttft_p50_seconds,
  quantile_cont(ttft_ns / 1e9, 0.9) FILTER (WHERE is_ok) AS llm_ttft_p90_seconds,
  quantile_cont(ttft_ns / 1e9, 0.99) FILTER (WHERE is_ok) AS llm_ttft_p99_seconds,
  coalesce(sum(output_tokens) FILTER (WHERE is_ok), 0) / greatest(getvariable('elapsed_s'), 1e-9) AS llm_tokens_per_second,
  count(*) FILTER (WHERE is_ok) / greatest(getvariable('elapsed_s'), 1e-9) AS llm_request_rate_per_second,
  coalesce(count(*) FILTER (WHERE status NOT IN ('ok', 'cancelled')) / nullif(count(*) FILTER (WHERE status <> 'cancelled'), 0), 0) AS llm_error_rate,
  coalesce(count(*) FILTER (WHERE status = 'timeout' OR http_status = 503) / nullif(count(*) FILTER (WHERE status <> 'cancelled'), 0), 0) AS llm_contention_error_rate,
  count(*) FILTER (WHERE status <> 'cancelled') AS requests
FROM request_metrics
WHERE phase = 'main' AND coalesce(json_extract_string(extra, '$.scenario'), 'main') = getvariable('scenario')
