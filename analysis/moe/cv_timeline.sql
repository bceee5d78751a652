-- moe_cv_timeline: per-step expert-load CV over the run (mean over layers), for the CV-over-time chart.
-- inputs: (none)
-- depends: moe_cv_per_step
-- grain: run × grp × source × step
-- formulas: cv = mean over layers of the step's cv; step_tokens = the step's token total; t_s = the step's time.
-- units: cv unitless; step_tokens tokens; t_s seconds (server clock).
SELECT run, grp, split_part(grp, '/', 1) AS backend, source, step,
  avg(cv) AS cv, max(step_tokens)::BIGINT AS step_tokens, bool_or(warmup) AS warmup, min(t_s) AS t_s
FROM moe_cv_per_step
GROUP BY run, grp, source, step
ORDER BY run, grp, source, step
