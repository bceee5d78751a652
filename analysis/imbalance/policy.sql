-- imbalance_policy: one line per load (balancer × mode): how unequal the GPUs end up, for the headline and the comparison.
-- inputs: (none)
-- depends: imbalance_load, imbalance_index
-- grain: run × shard × policy × mode
-- formulas: end window = the last quarter of the sending period (0.75 · last send ≤ t_s ≤ last send; the drain after it is left out);
--   gpu0_over_mean = GPU0's mean in_flight in the end window / the mean over all GPUs there;
--   busiest_over_mean = the same for the GPU with the highest mean in_flight in the window (busiest_gpu);
--   end_max_over_mean, end_cv = means of imbalance_index's max_over_mean and cv over the end window;
--   mean_max_over_mean = its mean over the whole sending period; samples = grid points in the end window.
-- units: ratios (unitless); mean_in_flight requests.
WITH send AS (
  SELECT run, shard, policy, mode, max(t_s) FILTER (WHERE sending) AS last_send_s FROM imbalance_load GROUP BY ALL
),
per_gpu AS (
  SELECT l.run, l.shard, l.policy, l.mode, l.gpu, avg(l.in_flight) AS in_flight
  FROM imbalance_load l JOIN send s USING (run, shard, policy, mode)
  WHERE l.sending AND l.t_s >= 0.75 * s.last_send_s
  GROUP BY ALL
),
gpu_end AS (
  SELECT run, shard, policy, mode, avg(in_flight) AS mean_in_flight,
    avg(in_flight) FILTER (WHERE gpu = 0) / nullif(avg(in_flight), 0) AS gpu0_over_mean,
    max(in_flight) / nullif(avg(in_flight), 0) AS busiest_over_mean,
    arg_max(gpu, in_flight) AS busiest_gpu
  FROM per_gpu GROUP BY ALL
),
idx AS (
  SELECT i.run, i.shard, i.policy, i.mode,
    avg(i.max_over_mean) FILTER (WHERE i.t_s >= 0.75 * s.last_send_s) AS end_max_over_mean,
    avg(i.cv) FILTER (WHERE i.t_s >= 0.75 * s.last_send_s) AS end_cv,
    avg(i.max_over_mean) AS mean_max_over_mean,
    count(*) FILTER (WHERE i.t_s >= 0.75 * s.last_send_s) AS samples
  FROM imbalance_index i JOIN send s USING (run, shard, policy, mode)
  WHERE i.sending
  GROUP BY ALL
)
SELECT * FROM gpu_end JOIN idx USING (run, shard, policy, mode)
ORDER BY run, mode, end_max_over_mean DESC
