-- cv_lines: the real-imbalance figures of `servelab moe cv`, straight from gate-log lines (one row per file line:
-- grp, source, step, layer, num_tokens, expert_counts), with the formulas of analysis/moe_cv.sql and
-- moe_ep_rank_load.sql computed on the count lists so a GB of logs needs no row per expert.
-- Assumes one line per (file, step, layer), as servers write them.
-- per_step_cv = mean over lines of stddev_pop(expert_counts) / avg(expert_counts) (NULL lines, with no token, left out);
-- aggregated: load(e) = Σ expert_counts[e] over lines with num_tokens ≤ 1000 (all layers and files); aggregated_cv =
-- stddev_pop(load) / avg(load); max_min_ratio = max / min. EP ranks: experts split contiguously, k = ceil(E / ep_size)
-- per rank; rank_cv_per_step = mean over lines of the CV of the ranks' loads; rank_cv_aggregated over the rank totals.
-- Output: one statement per result table, separated by the marker lines below.
-- @summary
WITH per_line AS (
  SELECT grp, source, step, layer, num_tokens, len(expert_counts) AS e,
    list_stddev_pop(expert_counts) / nullif(list_avg(expert_counts), 0) AS cv
  FROM gate_lines
),
ps AS (
  SELECT grp, avg(cv) AS per_step_cv,
    count(DISTINCT (source, step))::BIGINT AS steps,
    count(DISTINCT (source, step)) FILTER (WHERE num_tokens > 1000)::BIGINT AS warmup_steps,
    count(DISTINCT layer)::INTEGER AS layers, max(e)::INTEGER AS experts, count(DISTINCT source)::INTEGER AS files
  FROM per_line GROUP BY grp
),
agg AS (
  SELECT grp, stddev_pop(load) / nullif(avg(load), 0) AS aggregated_cv, max(load) / nullif(min(load), 0) AS max_min_ratio,
    sum(load)::BIGINT AS total_tokens, max(load)::BIGINT AS max_expert_tokens, min(load)::BIGINT AS min_expert_tokens, avg(load) AS mean_expert_tokens
  FROM gate_expert_totals GROUP BY grp
)
SELECT ps.grp, ps.per_step_cv, agg.aggregated_cv, agg.max_min_ratio, agg.total_tokens, agg.max_expert_tokens, agg.min_expert_tokens,
  agg.mean_expert_tokens, ps.steps, ps.warmup_steps, ps.layers, ps.experts, ps.files
FROM ps LEFT JOIN agg USING (grp) ORDER BY ps.grp
-- @ranks
WITH k AS (
  SELECT grp, max(expert) + 1 AS experts, ceil((max(expert) + 1) / getvariable('ep_size'))::BIGINT AS per_rank FROM gate_expert_totals GROUP BY grp
),
step_cv AS (
  SELECT l.grp, avg(list_stddev_pop(r) / nullif(list_avg(r), 0)) AS rank_cv_per_step
  FROM (
    SELECT g.grp, list_transform(range(ceil(len(g.expert_counts) / k.per_rank)::BIGINT), x -> list_sum(g.expert_counts[x * k.per_rank + 1 : (x + 1) * k.per_rank])) AS r
    FROM gate_lines g JOIN k USING (grp)
  ) l GROUP BY l.grp
),
totals AS (
  SELECT t.grp, (t.expert // k.per_rank)::INTEGER AS ep_rank, sum(t.load)::BIGINT AS rank_tokens
  FROM gate_expert_totals t JOIN k USING (grp) GROUP BY ALL
)
SELECT t.grp, t.ep_rank, t.rank_tokens,
  t.rank_tokens / nullif(sum(t.rank_tokens) OVER w, 0) AS share,
  stddev_pop(t.rank_tokens) OVER w / nullif(avg(t.rank_tokens) OVER w, 0) AS rank_cv_aggregated,
  s.rank_cv_per_step
FROM totals t JOIN step_cv s USING (grp)
WINDOW w AS (PARTITION BY t.grp)
ORDER BY t.grp, t.ep_rank
-- @layers
-- per layer (the old scripts' per-layer view): per_step_cv = mean over the layer's lines of their CV; aggregated_cv and
-- max_min_ratio over the layer's expert loads summed over lines with num_tokens ≤ 1000 (as analysis/moe/cv_by_layer.sql).
WITH ps AS (
  SELECT grp, layer, avg(list_stddev_pop(expert_counts) / nullif(list_avg(expert_counts), 0)) AS per_step_cv, count(*)::BIGINT AS steps
  FROM gate_lines GROUP BY grp, layer
),
per_expert AS (
  SELECT grp, layer, expert, sum(tokens) AS load FROM (
    SELECT grp, layer, unnest(range(len(expert_counts)))::INTEGER AS expert, unnest(expert_counts) AS tokens FROM gate_lines WHERE num_tokens <= 1000
  ) GROUP BY ALL
),
agg AS (
  SELECT grp, layer, stddev_pop(load) / nullif(avg(load), 0) AS aggregated_cv, max(load) / nullif(min(load), 0) AS max_min_ratio
  FROM per_expert GROUP BY grp, layer
)
SELECT ps.grp, ps.layer, ps.per_step_cv, agg.aggregated_cv, agg.max_min_ratio, ps.steps
FROM ps LEFT JOIN agg USING (grp, layer) ORDER BY ps.grp, ps.layer
