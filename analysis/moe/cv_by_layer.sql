-- moe_cv_by_layer: expert-load imbalance of each MoE layer, by both methods.
-- inputs: gate_load_groups
-- depends: moe_cv_per_step
-- grain: run × grp × layer
-- formulas: per_step_cv = mean over (file, step) of the layer's step cv; aggregated_cv = stddev_pop / avg over experts
--   of the layer's tokens summed over steps with step_tokens ≤ 1000; max_min_ratio = max / min of those sums.
-- units: tokens; cv and ratio unitless.
WITH ps AS (
  SELECT run, grp, layer, avg(cv) AS per_step_cv, count(*)::BIGINT AS steps
  FROM moe_cv_per_step GROUP BY run, grp, layer
),
per_expert AS (
  SELECT run, grp,
    layer, expert, sum(tokens) AS load
  FROM gate_load_groups WHERE step_tokens <= 1000 GROUP BY ALL
),
agg AS (
  SELECT run, grp, layer, stddev_pop(load) / nullif(avg(load), 0) AS aggregated_cv,
    max(load) / nullif(min(load), 0) AS max_min_ratio, sum(load)::BIGINT AS tokens
  FROM per_expert GROUP BY run, grp, layer
)
SELECT ps.run, ps.grp, ps.layer, ps.per_step_cv, agg.aggregated_cv, agg.max_min_ratio, agg.tokens, ps.steps
FROM ps LEFT JOIN agg USING (run, grp, layer)
ORDER BY ps.run, ps.grp, ps.layer
