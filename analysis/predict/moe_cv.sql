-- predict_moe_cv: measured vs predicted MoE expert-load imbalance of each dataset (gate-log group).
-- inputs: gate_load_groups, predicted_gate_loads
-- depends: (none)
-- grain: run × grp (grp = <backend>/<dataset>, as moe_cv; predicted gate sources are <endpoint>/<dataset>/replica<r>)
-- formulas: the aggregated method of moe_cv on each side: load(e) = Σ tokens of expert e over every step with
--   step_tokens ≤ 1000 and every layer and source; cv = stddev_pop(load) / avg(load); per-step cv = mean over
--   (source, step, layer) of stddev_pop(tokens) / avg(tokens) over experts, every step;
--   cv_err = predicted − measured (absolute, CV units); only groups the prediction has (a group it has but the
--   measurement lacks keeps NULL measured columns).
-- units: cv unitless; tokens in routed token slots.
WITH measured_exp AS (
  SELECT run, grp, expert, sum(tokens) AS load FROM gate_load_groups WHERE step_tokens <= 1000 GROUP BY ALL
),
predicted_groups AS (
  SELECT *, CASE WHEN contains(source, '/') THEN regexp_replace(source, '/[^/]*$', '') ELSE source END AS grp FROM predicted_gate_loads
),
predicted_exp AS (
  SELECT run, grp, expert, sum(tokens) AS load FROM predicted_groups WHERE step_tokens <= 1000 GROUP BY ALL
),
measured_step AS (
  SELECT run, grp, avg(cv) AS per_step_cv FROM (
    SELECT run, grp, source, step, layer, stddev_pop(tokens) / nullif(avg(tokens), 0) AS cv FROM gate_load_groups GROUP BY ALL
  ) GROUP BY ALL
),
predicted_step AS (
  SELECT run, grp, avg(cv) AS per_step_cv FROM (
    SELECT run, grp, source, step, layer, stddev_pop(tokens) / nullif(avg(tokens), 0) AS cv FROM predicted_groups GROUP BY ALL
  ) GROUP BY ALL
),
m AS (SELECT run, grp, stddev_pop(load) / nullif(avg(load), 0) AS cv, sum(load)::BIGINT AS tokens FROM measured_exp GROUP BY ALL),
p AS (SELECT run, grp, stddev_pop(load) / nullif(avg(load), 0) AS cv, sum(load)::BIGINT AS tokens FROM predicted_exp GROUP BY ALL)
SELECT run, grp,
  split_part(grp, '/', 1) AS backend,
  CASE WHEN contains(grp, '/') THEN split_part(grp, '/', 2) END AS dataset,
  m.cv AS aggregated_cv_measured, p.cv AS aggregated_cv_predicted, p.cv - m.cv AS aggregated_cv_err,
  ms.per_step_cv AS per_step_cv_measured, ps.per_step_cv AS per_step_cv_predicted, ps.per_step_cv - ms.per_step_cv AS per_step_cv_err,
  m.tokens AS tokens_measured, p.tokens AS tokens_predicted
FROM m FULL JOIN p USING (run, grp)
LEFT JOIN measured_step ms USING (run, grp)
LEFT JOIN predicted_step ps USING (run, grp)
WHERE p.cv IS NOT NULL
ORDER BY run, grp
