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
chunk_times AS (
  -- one list of (idx, t_ns) per request, sorted by idx
  SELECT run, request_id, list_sort(list({'idx': idx, 't': t_ns})) AS l FROM chunks GROUP BY run, request_id
),
vals AS (
  SELECT run, endpoint, phase, metric, value FROM (UNPIVOT req ON ttft, tpot, e2e INTO NAME metric VALUE value)
  UNION ALL
  SELECT r.run, r.endpoint, r.phase, 'itl' AS metric, (g.b.t - g.a.t) / 1e6 AS value
  FROM (SELECT run, request_id, unnest(list_slice(l, 2, len(l))) AS b, unnest(list_slice(l, 1, len(l) - 1)) AS a FROM chunk_times) g
  JOIN req r ON r.run = g.run AND r.request_id = g.request_id
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
