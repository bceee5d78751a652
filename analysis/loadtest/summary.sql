-- loadtest_summary: the load tester's Test Summary, Latency and TTFT percentiles, and its Per-Endpoint Breakdown.
-- inputs: request_metrics
-- depends: (none)
-- grain: run × scenario × endpoint; endpoint '*' is every endpoint of the scenario together
--   (scenario = extra.scenario: 'solo' / 'mixed' in the pipeline, else 'main'); phase 'main' only
-- formulas: counted = status <> 'cancelled' (a request still in flight after the end of the test and its grace period,
--   or never sent, is left out); successful = status 'ok'; failed = counted − successful;
--   latency = last_token_ns − sent_ns (E2E) and TTFT = first_token_ns − sent_ns over successful requests, percentiles
--   quantile_cont (linear interpolation); a shard's span = (max(end_ns) − min(scheduled_ns)) / 1e9 over its requests of the
--   scenario (the test as it ran; *_ns clocks are per process, so spans are taken within a shard); duration_s = the longest
--   span of the shards that carry the row's requests (--workers shards run at once); rps = successful / duration_s;
--   tokens_per_s = Σ output_tokens (successful) / duration_s (per endpoint over the whole test's span, as the old tool);
--   error_rate = failed / counted;
--   contention_error_rate = (timeouts + HTTP 503) / counted;
--   mean_concurrency = Σ (end_ns − sent_ns) of counted requests / 1e9 / duration_s (requests in flight on average,
--   Little's law: the closed-loop users a model held; the pipeline gives each model alone that many users).
-- units: *_s seconds, tpot_p50_ms milliseconds, rps and tokens_per_s per second, *_rate fractions 0–1, mean_concurrency requests.
WITH req AS (
  SELECT *, coalesce(json_extract_string(extra, '$.scenario'), 'main') AS scenario
  FROM request_metrics
  WHERE phase = 'main'
),
shard_span AS (
  SELECT run, scenario, shard, greatest((max(coalesce(end_ns, sent_ns, scheduled_ns)) - min(coalesce(scheduled_ns, sent_ns))) / 1e9, 1e-9) AS span_s
  FROM req
  GROUP BY run, scenario, shard
),
span AS (
  SELECT r.run, r.scenario, CASE WHEN grouping(r.endpoint) = 1 THEN '*' ELSE r.endpoint END AS endpoint, max(s.span_s) AS duration_s
  FROM (SELECT DISTINCT run, scenario, shard, endpoint FROM req) r JOIN shard_span s USING (run, scenario, shard)
  GROUP BY GROUPING SETS ((r.run, r.scenario, r.endpoint), (r.run, r.scenario))
),
agg AS (
  SELECT run, scenario, CASE WHEN grouping(endpoint) = 1 THEN '*' ELSE endpoint END AS endpoint,
    count(*) FILTER (WHERE status <> 'cancelled')::BIGINT AS total_requests,
    count(*) FILTER (WHERE status = 'ok')::BIGINT AS successful,
    count(*) FILTER (WHERE status NOT IN ('ok', 'cancelled'))::BIGINT AS failed,
    count(*) FILTER (WHERE status = 'cancelled')::BIGINT AS cancelled,
    count(*) FILTER (WHERE status = 'timeout' OR http_status = 503)::BIGINT AS contention_errors,
    quantile_cont(e2e_ns / 1e9, 0.5) FILTER (WHERE is_ok) AS latency_p50_s,
    quantile_cont(e2e_ns / 1e9, 0.9) FILTER (WHERE is_ok) AS latency_p90_s,
    quantile_cont(e2e_ns / 1e9, 0.99) FILTER (WHERE is_ok) AS latency_p99_s,
    quantile_cont(ttft_ns / 1e9, 0.5) FILTER (WHERE is_ok) AS ttft_p50_s,
    quantile_cont(ttft_ns / 1e9, 0.9) FILTER (WHERE is_ok) AS ttft_p90_s,
    quantile_cont(ttft_ns / 1e9, 0.99) FILTER (WHERE is_ok) AS ttft_p99_s,
    quantile_cont(tpot_ms, 0.5) FILTER (WHERE is_ok) AS tpot_p50_ms,
    coalesce(sum(output_tokens) FILTER (WHERE is_ok), 0)::BIGINT AS total_tokens,
    coalesce(sum(end_ns - sent_ns) FILTER (WHERE status <> 'cancelled'), 0) / 1e9 AS busy_s
  FROM req
  GROUP BY GROUPING SETS ((run, scenario, endpoint), (run, scenario))
)
SELECT a.run, a.scenario, a.endpoint, a.total_requests, a.successful, a.failed, a.cancelled, a.contention_errors,
  s.duration_s,
  a.successful / s.duration_s AS rps,
  a.total_tokens / s.duration_s AS tokens_per_s,
  a.latency_p50_s, a.latency_p90_s, a.latency_p99_s, a.ttft_p50_s, a.ttft_p90_s, a.ttft_p99_s, a.tpot_p50_ms, a.total_tokens,
  coalesce(a.failed / nullif(a.total_requests, 0), 0) AS error_rate,
  coalesce(a.contention_errors / nullif(a.total_requests, 0), 0) AS contention_error_rate,
  a.busy_s / s.duration_s AS mean_concurrency
FROM agg a JOIN span s USING (run, scenario, endpoint)
ORDER BY a.run, a.scenario, a.endpoint <> '*', a.endpoint
