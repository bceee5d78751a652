-- moe_correlation: how each metric follows predicted imbalance and real CV, per backend, after IQR outlier filtering.
-- inputs: (none)
-- depends: moe_imbalance_points
-- grain: run × backend × metric × x (x: predicted_score, real_cv = per-step CV, real_cv_aggregated)
-- formulas: points with outlier = false and both values present; pearson = corr(x, value);
--   spearman = corr of average ranks (ties get the mean of their ranks); slope, intercept = regr_slope/regr_intercept(value, x)
--   (least squares value = intercept + slope·x); r2 = regr_r2; the fitted line runs from x_min to x_max (y_at_min, y_at_max);
--   pearson_lo, pearson_hi = the 95% confidence interval of pearson by Fisher's z: tanh(atanh(r) ± 1.959964 / sqrt(n − 3)) (n ≥ 4 and |r| < 1 − 1e-9: none for a perfect fit);
--   n_left_out = the backend's points of the metric dropped by the IQR filter.
-- units: slope in the metric's unit per unit of x; pearson, spearman, r2 and the interval unitless; n, n_left_out points.
WITH left_out AS (
  SELECT run, backend, metric, count(*) FILTER (WHERE outlier)::BIGINT AS n_left_out
  FROM moe_imbalance_points GROUP BY run, backend, metric
),
pts AS (
  SELECT run, backend, metric, dataset, value, x_name, x
  FROM moe_imbalance_points
  UNPIVOT (x FOR x_name IN (predicted_score, real_cv, real_cv_aggregated))
  WHERE NOT outlier AND value IS NOT NULL AND x IS NOT NULL
),
ranked AS (
  SELECT *,
    rank() OVER (PARTITION BY run, backend, metric, x_name ORDER BY x) + (count(*) OVER (PARTITION BY run, backend, metric, x_name, x) - 1) / 2.0 AS rx,
    rank() OVER (PARTITION BY run, backend, metric, x_name ORDER BY value) + (count(*) OVER (PARTITION BY run, backend, metric, x_name, value) - 1) / 2.0 AS ry
  FROM pts
)
SELECT run, backend, metric, x, n, pearson,
  CASE WHEN n >= 4 AND abs(pearson) < 1 - 1e-9 THEN tanh(atanh(pearson) - 1.959964 / sqrt(n - 3)) END AS pearson_lo,
  CASE WHEN n >= 4 AND abs(pearson) < 1 - 1e-9 THEN tanh(atanh(pearson) + 1.959964 / sqrt(n - 3)) END AS pearson_hi,
  spearman, slope, intercept, r2, x_min, x_max, y_at_min, y_at_max, coalesce(l.n_left_out, 0)::BIGINT AS n_left_out
FROM (
SELECT run, backend, metric, x_name AS x,
  count(*)::BIGINT AS n,
  corr(value, x) AS pearson,
  corr(ry, rx) AS spearman,
  regr_slope(value, x) AS slope,
  regr_intercept(value, x) AS intercept,
  regr_r2(value, x) AS r2,
  min(x) AS x_min, max(x) AS x_max,
  regr_intercept(value, x) + regr_slope(value, x) * min(x) AS y_at_min,
  regr_intercept(value, x) + regr_slope(value, x) * max(x) AS y_at_max
FROM ranked
GROUP BY run, backend, metric, x_name
) f
LEFT JOIN left_out l USING (run, backend, metric)
ORDER BY run, metric, x, backend
