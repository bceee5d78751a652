-- moe_cv_per_step: expert-load imbalance of every engine step and MoE layer, per gate-log source.
-- inputs: gate_load_groups
-- depends: (none)
-- grain: run × source × step × layer (source = one gate-log file, e.g. baseline/007_0.4907/gate_logs_0)
-- formulas: grp = source up to its last '/' (the dataset a file belongs to; the source itself when it has no '/');
--   load(e) = Σ tokens of expert e in the step and layer; cv = stddev_pop(load) / avg(load) over the layer's experts
--   (population std, numpy's default; NULL when no token was routed); max_min_ratio = max(load) / min(load) (NULL when min is 0);
--   step_tokens = the step's token total as logged; warmup = step_tokens > 1000 (warm-up/profiling batches).
-- units: loads and step_tokens in tokens (routed token slots); cv and ratio unitless; t_s seconds of the step (server clock).
WITH loads AS (
  SELECT run, source, grp, step, layer, expert, sum(tokens) AS load, max(step_tokens) AS step_tokens, min(t_ns) AS t_ns
  FROM gate_load_groups
  GROUP BY run, source, grp, step, layer, expert
)
SELECT
  run,
  grp,
  source, step, layer,
  count(*)::INTEGER AS experts,
  sum(load)::BIGINT AS tokens,
  max(step_tokens)::BIGINT AS step_tokens,
  max(step_tokens) > 1000 AS warmup,
  avg(load) AS mean_load,
  stddev_pop(load) AS std_load,
  max(load)::BIGINT AS max_load,
  min(load)::BIGINT AS min_load,
  stddev_pop(load) / nullif(avg(load), 0) AS cv,
  max(load) / nullif(min(load), 0) AS max_min_ratio,
  min(t_ns) / 1e9 AS t_s
FROM loads
GROUP BY run, source, grp, step, layer
ORDER BY run, grp, source, step, layer
