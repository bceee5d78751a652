-- moe_imbalance_points: one point per backend, dataset and metric, beside its predicted score and real CV, with the IQR outlier flag.
-- inputs: (none)
-- depends: moe_bench, moe_cv
-- grain: run × backend × dataset × metric (metric: ttft, tpot, e2e = their means in ms; itl_p99 = the p99 of the chunk gaps in ms
--   (the mean gap equals the mean TPOT when every request streams one token per chunk and has the same length, so the tail is shown);
--   throughput = output tokens/s)
-- formulas: real_cv = moe_cv.per_step_cv and real_cv_aggregated = moe_cv.aggregated_cv of the gate-log group backend/dataset;
--   q1, q3 = quantile_cont(value, 0.25 / 0.75) over the backend's datasets for the metric; iqr = q3 - q1;
--   outlier = value < q1 - 1.5·iqr or value > q3 + 1.5·iqr (the old plot scripts' filter).
-- units: value in ms (latencies) or tokens/s (throughput); scores and CVs unitless.
WITH long AS (
  SELECT run, backend, dataset, predicted_score, metric, value
  FROM moe_bench
  UNPIVOT (value FOR metric IN (mean_ttft_ms AS 'ttft', mean_tpot_ms AS 'tpot', p99_itl_ms AS 'itl_p99', mean_e2e_ms AS 'e2e', output_throughput AS 'throughput'))
),
q AS (
  SELECT run, backend, metric, quantile_cont(value, 0.25) AS q1, quantile_cont(value, 0.75) AS q3
  FROM long GROUP BY run, backend, metric
)
SELECT l.run, l.backend, l.dataset, l.metric, l.value, l.predicted_score,
  c.per_step_cv AS real_cv, c.aggregated_cv AS real_cv_aggregated,
  q.q1, q.q3, q.q3 - q.q1 AS iqr,
  (l.value < q.q1 - 1.5 * (q.q3 - q.q1) OR l.value > q.q3 + 1.5 * (q.q3 - q.q1)) AS outlier
FROM long l
JOIN q USING (run, backend, metric)
LEFT JOIN moe_cv c ON c.run = l.run AND c.backend = l.backend AND c.dataset = l.dataset
ORDER BY l.run, l.metric, l.backend, l.dataset
