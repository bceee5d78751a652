-- schedule_comparison: the seed scheduling simulator's comparison, per weight class and overall.
-- inputs: requests
-- depends: (none)
-- grain: run × mode × workload × algorithm × weight class (weight_class 'all' = every task)
-- formulas: wait = first_token_ns - scheduled_ns (task start − arrival), over completed tasks (status ok);
--   weighted_wait_s = Σ weight·wait (the seed's weighted waiting time); wait_s_mean = avg(wait) (the seed's
--   average waiting time); p50/p90 = quantile_cont (linear interpolation); makespan_s = max(done_ns) / 1e9;
--   completion_rate = completed / tasks. Rows come from `servelab simulate --run` (protocol 'sim',
--   extra.algorithm / extra.workload / extra.mode).
-- units: *_s seconds of simulated time, tasks and completed in tasks, weight as given.
WITH t AS (
  SELECT
    run,
    json_extract_string(extra, '$.mode') AS mode,
    json_extract_string(extra, '$.workload') AS workload,
    json_extract_string(extra, '$.algorithm') AS algorithm,
    printf('w=%g', weight) AS weight_class,
    weight,
    status = 'ok' AS completed,
    CASE WHEN status = 'ok' THEN (first_token_ns - scheduled_ns) / 1e9 END AS wait_s,
    CASE WHEN status = 'ok' THEN done_ns / 1e9 END AS done_s
  FROM requests
  WHERE protocol = 'sim' AND json_extract_string(extra, '$.algorithm') IS NOT NULL
)
SELECT
  run, mode, workload, algorithm,
  coalesce(weight_class, 'all') AS weight_class,
  count(*) AS tasks,
  count(*) FILTER (WHERE completed) AS completed,
  count(*) FILTER (WHERE completed) / count(*) AS completion_rate,
  avg(wait_s) AS wait_s_mean,
  quantile_cont(wait_s, 0.5) AS wait_s_p50,
  quantile_cont(wait_s, 0.9) AS wait_s_p90,
  max(wait_s) AS wait_s_max,
  coalesce(sum(weight * wait_s), 0) AS weighted_wait_s,
  coalesce(max(done_s), 0) AS makespan_s
FROM t
GROUP BY GROUPING SETS ((run, mode, workload, algorithm, weight_class), (run, mode, workload, algorithm))
ORDER BY run, mode, workload, algorithm, weight_class
