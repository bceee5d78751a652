-- schedule_gantt: which task each GPU group ran, when, in each scheduling simulation.
-- inputs: sim_intervals, requests
-- depends: (none)
-- grain: run × mode × workload × algorithm × busy interval of a GPU group
-- formulas: start_s = start_ns / 1e9, end_s = end_ns / 1e9; task, weight and tokens from the task's requests line
--   (joined on run and request_id); weight_class = 'w=<weight>'.
-- units: start_s, end_s seconds of simulated time; tokens in prompt tokens.
SELECT
  i.run,
  json_extract_string(i.extra, '$.mode') AS mode,
  json_extract_string(i.extra, '$.workload') AS workload,
  json_extract_string(i.extra, '$.algorithm') AS algorithm,
  i.resource,
  CAST(json_extract(i.extra, '$.group') AS INTEGER) AS gpu_group,
  json_extract_string(r.extra, '$.task_id') AS task_id,
  r.weight,
  printf('w=%g', r.weight) AS weight_class,
  CAST(json_extract(r.extra, '$.tokens') AS INTEGER) AS tokens,
  i.start_ns / 1e9 AS start_s,
  i.end_ns / 1e9 AS end_s
FROM sim_intervals i
JOIN requests r ON r.run = i.run AND r.request_id = i.request_id
WHERE i.kind = 'task' AND json_extract_string(i.extra, '$.algorithm') IS NOT NULL
ORDER BY i.run, mode, workload, algorithm, gpu_group, start_s
