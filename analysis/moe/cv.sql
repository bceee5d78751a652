-- moe_cv: real MoE load imbalance of each dataset (gate-log group), by both methods of the old scripts.
-- inputs: gate_load_groups
-- depends: moe_cv_per_step
-- grain: run × grp (grp = the gate-log group, e.g. baseline/007_0.4907 or a gates_logs_XX directory)
-- formulas: per_step_cv = mean over (file, step, layer) of the step's cv (get_real_imbalance.py, every step);
--   aggregated: load(e) = Σ tokens of expert e over every step with step_tokens ≤ 1000 and every layer and file,
--   aggregated_cv = stddev_pop(load) / avg(load) (new_real_imbalance.py); max_min_ratio = max(load) / min(load);
--   total_tokens = Σ load (routed token slots = tokens × top_k × layers); steps = distinct (file, step);
--   warmup_steps = steps with step_tokens > 1000 (left out of the aggregated method only).
-- units: tokens; cv and ratio unitless.
WITH ps AS (
  SELECT run, grp,
    avg(cv) AS per_step_cv,
    count(DISTINCT (source, step))::BIGINT AS steps,
    count(DISTINCT (source, step)) FILTER (WHERE warmup)::BIGINT AS warmup_steps,
    count(DISTINCT layer)::INTEGER AS layers,
    max(experts)::INTEGER AS experts,
    count(DISTINCT source)::INTEGER AS files
  FROM moe_cv_per_step
  GROUP BY run, grp
),
per_expert AS (
  SELECT run, grp,
    expert, sum(tokens) AS load
  FROM gate_load_groups
  WHERE step_tokens <= 1000
  GROUP BY ALL
),
agg AS (
  SELECT run, grp,
    stddev_pop(load) / nullif(avg(load), 0) AS aggregated_cv,
    max(load) / nullif(min(load), 0) AS max_min_ratio,
    sum(load)::BIGINT AS total_tokens,
    max(load)::BIGINT AS max_expert_tokens,
    min(load)::BIGINT AS min_expert_tokens,
    avg(load) AS mean_expert_tokens
  FROM per_expert
  GROUP BY run, grp
)
SELECT ps.run, ps.grp,
  split_part(ps.grp, '/', 1) AS backend,
  CASE WHEN contains(ps.grp, '/') THEN split_part(ps.grp, '/', 2) END AS dataset,
  ps.per_step_cv, agg.aggregated_cv, agg.max_min_ratio,
  agg.total_tokens, agg.max_expert_tokens, agg.min_expert_tokens, agg.mean_expert_tokens,
  ps.steps, ps.warmup_steps, ps.layers, ps.experts, ps.files
FROM ps LEFT JOIN agg USING (run, grp)
ORDER BY ps.run, ps.grp
