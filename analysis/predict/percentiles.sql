-- predict_percentiles: measured vs predicted latency percentiles and throughput of the same requests, side by side.
-- inputs: (none)
-- depends: predict_requests
-- grain: run × phase × metric × stat (metric ttft | tpot | e2e, stat mean | p50 | p90 | p99; metric output_throughput, stat total)
-- formulas: percentiles over the requests of predict_requests = quantile_cont (linear interpolation), separately for the
--   measured and the predicted column; output_throughput = sum(output_tokens) / (last end − first send) per side,
--   end = send + E2E; rel_err = (predicted - measured) / measured.
-- units: latency values in milliseconds, output_throughput in tokens per second, rel_err a fraction.
WITH long AS (
  SELECT run, phase, 'ttft' AS metric, ttft_ms_measured AS measured, ttft_ms_predicted AS predicted FROM predict_requests
  UNION ALL SELECT run, phase, 'tpot', tpot_ms_measured, tpot_ms_predicted FROM predict_requests WHERE tpot_ms_measured IS NOT NULL
  UNION ALL SELECT run, phase, 'e2e', e2e_ms_measured, e2e_ms_predicted FROM predict_requests
),
stats AS (
  SELECT run, phase, metric,
    [avg(measured), quantile_cont(measured, 0.5), quantile_cont(measured, 0.9), quantile_cont(measured, 0.99)] AS m,
    [avg(predicted), quantile_cont(predicted, 0.5), quantile_cont(predicted, 0.9), quantile_cont(predicted, 0.99)] AS p,
    count(*) AS n
  FROM long GROUP BY ALL
),
latency AS (
  SELECT run, phase, metric, s.stat, m[s.i] AS measured, p[s.i] AS predicted, n
  FROM stats, (VALUES (1, 'mean'), (2, 'p50'), (3, 'p90'), (4, 'p99')) s(i, stat)
),
sent AS (
  SELECT r.run, r.phase, r.output_tokens, rm.sent_ns, r.e2e_ms_measured, r.e2e_ms_predicted
  FROM predict_requests r JOIN request_metrics rm USING (run, request_id)
),
throughput AS (
  SELECT run, phase, 'output_throughput' AS metric, 'total' AS stat,
    sum(output_tokens) / ((max(sent_ns + e2e_ms_measured * 1e6) - min(sent_ns)) / 1e9) AS measured,
    sum(output_tokens) / ((max(sent_ns + e2e_ms_predicted * 1e6) - min(sent_ns)) / 1e9) AS predicted,
    count(*) AS n
  FROM sent GROUP BY ALL
)
SELECT run, phase, metric, stat, measured, predicted, (predicted - measured) / nullif(measured, 0) AS rel_err, n
FROM (SELECT * FROM latency UNION ALL SELECT * FROM throughput)
ORDER BY run, phase, CASE metric WHEN 'ttft' THEN 1 WHEN 'tpot' THEN 2 WHEN 'e2e' THEN 3 ELSE 4 END,
  CASE stat WHEN 'mean' THEN 1 WHEN 'p50' THEN 2 WHEN 'p90' THEN 3 WHEN 'p99' THEN 4 ELSE 5 END
