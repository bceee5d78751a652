-- schedule_queue: tasks waiting and running over time in each scheduling simulation (a step function).
-- inputs: requests
-- depends: (none)
-- grain: run × mode × workload × algorithm × time at which the counts change
-- formulas: waiting(t) = #tasks with scheduled_ns ≤ t < first_token_ns (arrived, not started);
--   running(t) = #tasks with first_token_ns ≤ t < done_ns; counts hold from t until the next row.
--   Built as a running sum of +1/−1 events; events at one instant are summed before the row is kept.
-- units: t_s seconds of simulated time; waiting and running in tasks.
WITH t AS (
  SELECT
    run,
    json_extract_string(extra, '$.mode') AS mode,
    json_extract_string(extra, '$.workload') AS workload,
    json_extract_string(extra, '$.algorithm') AS algorithm,
    scheduled_ns, first_token_ns, done_ns
  FROM requests
  WHERE protocol = 'sim' AND json_extract_string(extra, '$.algorithm') IS NOT NULL
),
ev AS (
  SELECT run, mode, workload, algorithm, scheduled_ns AS t_ns, 1 AS dw, 0 AS dr FROM t
  UNION ALL
  SELECT run, mode, workload, algorithm, first_token_ns, -1, 1 FROM t WHERE first_token_ns IS NOT NULL
  UNION ALL
  SELECT run, mode, workload, algorithm, done_ns, 0, -1 FROM t WHERE done_ns IS NOT NULL
),
per_instant AS (
  SELECT run, mode, workload, algorithm, t_ns, sum(dw) AS dw, sum(dr) AS dr
  FROM ev
  GROUP BY ALL
)
SELECT
  run, mode, workload, algorithm,
  t_ns / 1e9 AS t_s,
  sum(dw) OVER w AS waiting,
  sum(dr) OVER w AS running
FROM per_instant
WINDOW w AS (PARTITION BY run, mode, workload, algorithm ORDER BY t_ns ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY run, mode, workload, algorithm, t_s
