-- latency_quantiles: the distribution of each latency metric as 101 quantile points, for CDF charts.
-- inputs: requests, chunks
-- depends: (none)
-- grain: run × endpoint × phase × metric × q
-- formulas: metric ∈ {ttft, tpot, itl, e2e} as in latency_summary (ok requests only);
--   value_ms = quantile_cont(metric, q) for q = 0, 0.01, …, 1 (linear interpolation); n = values in the group.
-- units: value_ms milliseconds, q fraction 0–1.
WITH req AS (
  SELECT run, endpoint, phase, request_id,
    (first_token_ns - sent_ns) / 1e6 AS ttft,
    CASE WHEN output_tokens > 1 THEN (last_token_ns - first_token_ns) / 1e6 / (output_tokens - 1) END AS tpot,
    (last_token_ns - sent_ns) / 1e6 AS e2e
  FROM requests
  WHERE status = 'ok'
),
gaps AS (
  SELECT c.run, c.request_id,
    (c.t_ns - lag(c.t_ns) OVER (PARTITION BY c.run, c.request_id ORDER BY c.idx)) / 1e6 AS itl
  FROM chunks c
  SEMI JOIN req r ON r.run = c.run AND r.request_id = c.request_id
),
vals AS (
  SELECT run, endpoint, phase, metric, value FROM (UNPIVOT req ON ttft, tpot, e2e INTO NAME metric VALUE value)
  UNION ALL
  SELECT r.run, r.endpoint, r.phase, 'itl' AS metric, g.itl AS value
  FROM gaps g JOIN req r ON r.run = g.run AND r.request_id = g.request_id
  WHERE g.itl IS NOT NULL
),
q AS (
  SELECT run, endpoint, phase, metric, count(value)::BIGINT AS n,
    quantile_cont(value, [i / 100 for i in range(0, 101)]) AS qs
  FROM vals
  WHERE value IS NOT NULL
  GROUP BY ALL
)
SELECT run, endpoint, phase, metric, n, (i - 1) / 100 AS q, qs[i] AS value_ms
FROM q, range(1, 102) t(i)
ORDER BY run, endpoint, phase, metric, q
