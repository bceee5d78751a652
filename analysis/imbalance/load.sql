-- imbalance_load: per-GPU requests in flight and outstanding tokens over time, for every load (balancer × mode) of a run.
-- inputs: requests
-- depends: (none)
-- grain: run × shard × policy (endpoint column) × mode (dataset column) × gpu × t_s, t_s on a grid from the load's first send
--   to its last response, step = max(0.25 s, span / 400)
-- formulas: gpu = the GPU the server reported (x-gpu-id), else the one round-robin assigned;
--   in_flight(t) = requests on the GPU with sent_ns <= t < end (end = coalesce(done_ns, last_token_ns, first_byte_ns, sent_ns));
--   outstanding_tokens(t) = Σ over those requests of: prompt tokens (server usage, else words) + output tokens before the first
--   token; output tokens × (last_token_ns − t) / (last_token_ns − first_token_ns) after it (the part still to decode);
--   sending = t_s <= the load's last send (after it the load only drains).
-- units: t_s seconds since the load's first send; in_flight requests; outstanding_tokens tokens.
WITH r AS (
  SELECT run, shard, endpoint AS policy, dataset AS mode, gpu, sent_ns,
    coalesce(done_ns, last_token_ns, first_byte_ns, sent_ns) AS end_ns, first_token_ns, last_token_ns,
    coalesce(prompt_tokens_server, prompt_words, 0) AS prompt_tokens, coalesce(output_tokens, 0) AS out_tokens
  FROM requests
  WHERE sent_ns IS NOT NULL AND gpu IS NOT NULL
),
span AS (
  SELECT run, shard, policy, mode, min(sent_ns) AS t0, max(sent_ns) AS last_sent, max(end_ns) AS t1,
    greatest(250000000, ((max(end_ns) - min(sent_ns)) / 400)::BIGINT) AS step_ns
  FROM r GROUP BY ALL
),
gpus AS (SELECT DISTINCT run, shard, policy, mode, gpu FROM r),
grid AS (
  SELECT run, shard, policy, mode, t0, last_sent, unnest(range(t0, t1 + 1, step_ns)) AS t_ns FROM span
),
cells AS (
  SELECT g.run, g.shard, g.policy, g.mode, p.gpu, g.t0, g.last_sent, g.t_ns FROM grid g JOIN gpus p USING (run, shard, policy, mode)
)
SELECT c.run, c.shard, c.policy, c.mode, c.gpu, (c.t_ns - c.t0) / 1e9 AS t_s, c.t_ns <= c.last_sent AS sending,
  count(r.sent_ns) AS in_flight,
  coalesce(sum(CASE
    WHEN r.first_token_ns IS NULL OR c.t_ns < r.first_token_ns THEN r.prompt_tokens + r.out_tokens
    WHEN r.last_token_ns > r.first_token_ns THEN r.out_tokens * (r.last_token_ns - c.t_ns) / (r.last_token_ns - r.first_token_ns)
    ELSE 0 END), 0) AS outstanding_tokens
FROM cells c
LEFT JOIN r ON r.run = c.run AND r.shard = c.shard AND r.policy = c.policy AND r.mode = c.mode AND r.gpu = c.gpu
  AND r.sent_ns <= c.t_ns AND c.t_ns < r.end_ns
GROUP BY ALL
ORDER BY c.run, c.shard, c.policy, c.mode, c.gpu, t_s
