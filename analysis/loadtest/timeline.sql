-- loadtest_timeline: error and contention rates over the test, per endpoint, in windows of send time.
-- inputs: request_metrics
-- depends: (none)
-- grain: run × scenario × endpoint × window (t_s = window start, seconds since its shard's first send: *_ns clocks are
--   per process, and --workers shards start together)
-- formulas: window_s = the scenario's longest shard span / 12, rounded, clamped to 1…10 s (10 s = the progress line's period);
--   counted = status <> 'cancelled'; error_rate = non-ok / counted; contention_error_rate = (timeouts + HTTP 503) / counted;
--   rps = ok / window_s; ttft_p50_s = quantile_cont over the window's ok requests.
-- units: t_s and window_s seconds, rps per second, *_rate fractions 0–1, ttft_p50_s seconds.
WITH req AS (
  SELECT *, coalesce(json_extract_string(extra, '$.scenario'), 'main') AS scenario
  FROM request_metrics
  WHERE phase = 'main' AND status <> 'cancelled' AND sent_ns IS NOT NULL
),
shard0 AS (SELECT run, scenario, shard, min(sent_ns) AS t0, max(sent_ns) - min(sent_ns) AS span_ns FROM req GROUP BY run, scenario, shard),
win AS (SELECT run, scenario, least(10, greatest(1, round(max(span_ns) / 1e9 / 12))) AS window_s FROM shard0 GROUP BY run, scenario)
SELECT r.run, r.scenario, r.endpoint,
  (floor((r.sent_ns - s.t0) / 1e9 / w.window_s) * w.window_s)::DOUBLE AS t_s,
  any_value(w.window_s)::DOUBLE AS window_s,
  count(*)::BIGINT AS requests,
  count(*) FILTER (WHERE r.status = 'ok') / any_value(w.window_s) AS rps,
  count(*) FILTER (WHERE r.status <> 'ok') / count(*) AS error_rate,
  count(*) FILTER (WHERE r.status = 'timeout' OR r.http_status = 503) / count(*) AS contention_error_rate,
  quantile_cont(r.ttft_ns / 1e9, 0.5) FILTER (WHERE r.is_ok) AS ttft_p50_s
FROM req r JOIN shard0 s USING (run, scenario, shard) JOIN win w USING (run, scenario)
GROUP BY r.run, r.scenario, r.endpoint, t_s
ORDER BY r.run, r.scenario, r.endpoint, t_s
