-- loadtest_timeline: error and contention rates over the test, per endpoint, in 10 s windows (the progress line's period).
-- inputs: request_metrics
-- depends: (none)
-- grain: run × scenario × endpoint × 10 s window of send time (t_s = window start, seconds since the scenario's first send)
-- formulas: counted = status <> 'cancelled'; error_rate = non-ok / counted; contention_error_rate = (timeouts + HTTP 503) / counted;
--   rps = ok / 10 s; ttft_p50_s = quantile_cont over the window's ok requests.
-- units: t_s seconds, rps per second, *_rate fractions 0–1, ttft_p50_s seconds.
WITH req AS (
  SELECT *, coalesce(json_extract_string(extra, '$.scenario'), 'main') AS scenario
  FROM request_metrics
  WHERE phase = 'main' AND status <> 'cancelled' AND sent_ns IS NOT NULL
),
t0 AS (SELECT run, scenario, min(sent_ns) AS t0 FROM req GROUP BY run, scenario)
SELECT r.run, r.scenario, r.endpoint,
  (floor((r.sent_ns - t0.t0) / 1e10) * 10)::INTEGER AS t_s,
  count(*)::BIGINT AS requests,
  count(*) FILTER (WHERE r.status = 'ok') / 10.0 AS rps,
  count(*) FILTER (WHERE r.status <> 'ok') / count(*) AS error_rate,
  count(*) FILTER (WHERE r.status = 'timeout' OR r.http_status = 503) / count(*) AS contention_error_rate,
  quantile_cont(r.ttft_ns / 1e9, 0.5) FILTER (WHERE r.is_ok) AS ttft_p50_s
FROM req r JOIN t0 USING (run, scenario)
GROUP BY ALL
ORDER BY r.run, r.scenario, r.endpoint, t_s
