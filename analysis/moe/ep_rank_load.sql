-- moe_ep_rank_load: token load of each expert-parallel rank, with experts split contiguously across ranks.
-- inputs: gate_load_groups, runs
-- depends: (none)
-- grain: run × grp × ep_rank
-- formulas: ep_size = runs.config.ep_size (default 4); experts = max(expert) + 1 of the group;
--   ep_rank = expert // ceil(experts / ep_size); rank_tokens = Σ tokens of the rank's experts over steps with
--   step_tokens ≤ 1000 (all layers); share = rank_tokens / Σ rank_tokens; rank_cv_aggregated = stddev_pop / avg of
--   rank_tokens across ranks; rank_cv_per_step = mean over (file, step, layer) of the CV of the ranks' loads in that step.
-- units: tokens; share 0–1; cv unitless.
WITH cfg AS (
  SELECT run, coalesce(TRY_CAST(json_extract(config, '$.ep_size') AS INTEGER), 4) AS ep_size FROM runs
),
sizes AS (
  SELECT g.run, g.grp, max(g.expert) + 1 AS experts, coalesce(any_value(cfg.ep_size), 4) AS ep_size
  FROM gate_load_groups g LEFT JOIN cfg USING (run) GROUP BY g.run, g.grp
),
ranked AS (
  SELECT g.*, s.ep_size, (g.expert // ceil(s.experts / s.ep_size)::BIGINT)::INTEGER AS ep_rank
  FROM gate_load_groups g JOIN sizes s USING (run, grp)
),
per_step AS (
  SELECT run, grp, source, step, layer, ep_rank, sum(tokens) AS load
  FROM ranked GROUP BY ALL
),
step_cv AS (
  SELECT run, grp, avg(cv) AS rank_cv_per_step FROM (
    SELECT run, grp, source, step, layer, stddev_pop(load) / nullif(avg(load), 0) AS cv
    FROM per_step GROUP BY run, grp, source, step, layer
  ) GROUP BY run, grp
),
totals AS (
  SELECT run, grp, ep_rank, any_value(ep_size) AS ep_size, sum(tokens) FILTER (WHERE step_tokens <= 1000) AS rank_tokens
  FROM ranked GROUP BY run, grp, ep_rank
)
SELECT t.run, t.grp, t.ep_rank, t.ep_size,
  coalesce(t.rank_tokens, 0)::BIGINT AS rank_tokens,
  coalesce(t.rank_tokens, 0) / nullif(sum(t.rank_tokens) OVER w, 0) AS share,
  stddev_pop(coalesce(t.rank_tokens, 0)) OVER w / nullif(avg(coalesce(t.rank_tokens, 0)) OVER w, 0) AS rank_cv_aggregated,
  s.rank_cv_per_step
FROM totals t JOIN step_cv s USING (run, grp)
WINDOW w AS (PARTITION BY t.run, t.grp)
ORDER BY t.run, t.grp, t.ep_rank
