-- latency_quantiles: the distribution of each latency metric as 101 quantile points, for CDF charts.
-- inputs: request_metrics, request_itl
-- depends: (none)
-- grain: run × endpoint × phase × metric × q
-- formulas: metric ∈ {ttft, tpot, itl, e2e} from request_metrics and request_itl (ok requests only);
--   value_ms = quantile_cont(metric, q) for q = 0, 0.01, …, 1 (linear interpolation); n = values in the group.
-- units: value_ms milliseconds, q fraction 0–1.
WITH req AS (
  SELECT run, endpoint, phase, request_id, ttft_ms AS ttft, tpot_ms AS tpot, e2e_ms AS e2e
  FROM request_metrics
  WHERE is_ok
),
vals AS (
  SELECT run, endpoint, phase, metric, value FROM (UNPIVOT (SELECT run, endpoint, phase, ttft, tpot, e2e FROM req) ON ttft, tpot, e2e INTO NAME metric VALUE value)
  UNION ALL
  SELECT r.run, r.endpoint, r.phase, 'itl' AS metric, unnest(i.itl_ns) / 1e6 AS value
  FROM request_itl i JOIN req r ON r.run = i.run AND r.request_id = i.request_id
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
