-- moe_expert_heat: tokens each expert of each MoE layer received (the layer × expert heat map).
-- inputs: gate_load_groups
-- depends: (none)
-- grain: run × grp × layer × expert
-- formulas: tokens = Σ tokens over steps with step_tokens ≤ 1000 and every file of the group;
--   share = tokens / Σ tokens of the layer; relative_load = tokens / mean tokens of the layer's experts (1 = even).
-- units: tokens; share 0–1; relative_load unitless.
WITH t AS (
  SELECT run, grp,
    layer, expert, sum(tokens) FILTER (WHERE step_tokens <= 1000) AS tokens
  FROM gate_load_groups GROUP BY ALL
)
SELECT run, grp, layer, expert, coalesce(tokens, 0)::BIGINT AS tokens,
  coalesce(tokens, 0) / nullif(sum(tokens) OVER w, 0) AS share,
  coalesce(tokens, 0) / nullif(avg(coalesce(tokens, 0)) OVER w, 0) AS relative_load
FROM t
WINDOW w AS (PARTITION BY run, grp, layer)
ORDER BY run, grp, layer, expert
