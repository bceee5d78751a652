-- imbalance_index: how unequal the GPUs' loads are at each moment: max/mean and CV across GPUs.
-- inputs: (none)
-- depends: imbalance_load
-- grain: run × shard × policy × mode × t_s
-- formulas: max_over_mean = max over GPUs of in_flight / mean over GPUs (1 = balanced; NULL when nothing is in flight);
--   cv = population standard deviation / mean of in_flight across GPUs; tokens_max_over_mean, tokens_cv the same over
--   outstanding_tokens; busiest_gpu = the GPU with the most requests in flight (lowest id on ties).
-- units: ratios (unitless); t_s seconds since the load's first send; mean_in_flight requests.
SELECT run, shard, policy, mode, t_s, bool_or(sending) AS sending,
  avg(in_flight) AS mean_in_flight,
  max(in_flight) / nullif(avg(in_flight), 0) AS max_over_mean,
  stddev_pop(in_flight) / nullif(avg(in_flight), 0) AS cv,
  max(outstanding_tokens) / nullif(avg(outstanding_tokens), 0) AS tokens_max_over_mean,
  stddev_pop(outstanding_tokens) / nullif(avg(outstanding_tokens), 0) AS tokens_cv,
  arg_max(gpu, in_flight * 1000 - gpu) AS busiest_gpu
FROM imbalance_load
GROUP BY ALL
ORDER BY run, shard, policy, mode, t_s
