-- moe_cv_prediction: how well the predicted imbalance score foresees the real CV, per backend (no outlier filter).
-- inputs: (none)
-- depends: moe_bench, moe_cv
-- grain: run × backend × cv (cv: per_step = moe_cv.per_step_cv, aggregated = moe_cv.aggregated_cv)
-- formulas: one point per dataset with both values; pearson = corr(cv, predicted_score);
--   spearman = corr of average ranks (ties get the mean of their ranks); slope, intercept = regr_slope/regr_intercept(cv, predicted_score);
--   r2 = regr_r2; cv_min, cv_max over the datasets; score_min, score_max over the datasets;
--   pearson_lo, pearson_hi = the 95% confidence interval of pearson by Fisher's z: tanh(atanh(r) ± 1.959964 / sqrt(n − 3)) (n ≥ 4 and |r| < 1 − 1e-9: none for a perfect fit).
-- units: slope in CV per unit of score; pearson, spearman, r2, CVs, scores and the interval unitless; n datasets.
WITH pts AS (
  SELECT b.run, b.backend, b.dataset, b.predicted_score AS score, c.per_step_cv AS per_step, c.aggregated_cv AS aggregated
  FROM moe_bench b JOIN moe_cv c ON c.run = b.run AND c.backend = b.backend AND c.dataset = b.dataset
),
long AS (
  SELECT run, backend, dataset, score, cv_name, cv
  FROM pts
  UNPIVOT (cv FOR cv_name IN (per_step, aggregated))
  WHERE score IS NOT NULL AND cv IS NOT NULL
),
ranked AS (
  SELECT *,
    rank() OVER (PARTITION BY run, backend, cv_name ORDER BY score) + (count(*) OVER (PARTITION BY run, backend, cv_name, score) - 1) / 2.0 AS rs,
    rank() OVER (PARTITION BY run, backend, cv_name ORDER BY cv) + (count(*) OVER (PARTITION BY run, backend, cv_name, cv) - 1) / 2.0 AS rc
  FROM long
)
SELECT *,
  CASE WHEN n >= 4 AND abs(pearson) < 1 - 1e-9 THEN tanh(atanh(pearson) - 1.959964 / sqrt(n - 3)) END AS pearson_lo,
  CASE WHEN n >= 4 AND abs(pearson) < 1 - 1e-9 THEN tanh(atanh(pearson) + 1.959964 / sqrt(n - 3)) END AS pearson_hi
FROM (
SELECT run, backend, cv_name AS cv,
  count(*)::BIGINT AS n,
  corr(cv, score) AS pearson,
  corr(rc, rs) AS spearman,
  regr_slope(cv, score) AS slope,
  regr_intercept(cv, score) AS intercept,
  regr_r2(cv, score) AS r2,
  min(cv) AS cv_min, max(cv) AS cv_max, min(score) AS score_min, max(score) AS score_max
FROM ranked
GROUP BY run, backend, cv_name
) f
ORDER BY run, cv, backend
