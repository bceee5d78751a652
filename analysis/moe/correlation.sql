-- moe_correlation: how each metric follows predicted imbalance and real CV, per backend, after IQR outlier filtering.
-- inputs: (none)
-- depends: moe_imbalance_points
-- grain: run × backend × metric × x (x: predicted_score, real_cv = per-step CV, real_cv_aggregated)
-- formulas: points with outlier = false and both values present; pearson = corr(x, value);
--   spearman = corr of average ranks (ties get the mean of their ranks); slope, intercept = regr_slope/regr_intercept(value, x)
--   (least squares value = intercept + slope·x); r2 = regr_r2; the fitted line runs from x_min to x_max (y_at_min, y_at_max).
-- units: slope in the metric's unit per unit of x; pearson, spearman, r2 unitless; n points.
WITH pts AS (
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
ORDER BY run, metric, x, backend
