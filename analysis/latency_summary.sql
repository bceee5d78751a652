-- latency_summary: request counts and latency statistics of each endpoint and phase of a run.
-- inputs: requests, chunks
-- depends: (none)
-- grain: run × endpoint × phase
-- formulas: TTFT = first_token_ns - sent_ns; TPOT = (last_token_ns - first_token_ns) / (output_tokens - 1), only output_tokens > 1;
--   ITL = t_ns[idx] - t_ns[idx-1] over the chunks of a request (ordered by idx); E2E = last_token_ns - sent_ns;
--   send lag = sent_ns - scheduled_ns (every request that was sent); user-visible latency = last_token_ns - scheduled_ns;
--   latencies count ok requests only; mean, std = stddev_pop, pNN = quantile_cont (linear interpolation; over integer ns
--   where the metric is a difference of timestamps, then / 1e6);
--   duration_s = (max(coalesce(done_ns, last_token_ns)) - min(sent_ns)) / 1e9 over the phase's requests;
--   request_throughput = ok / duration_s; output_throughput = sum(output_tokens of ok) / duration_s.
-- units: *_ms milliseconds, duration_s seconds, *_throughput per second, counts in requests, itl_n in gaps.
WITH req AS (
  SELECT
    run, endpoint, phase, request_id, status, status = 'ok' AS is_ok, output_tokens, prompt_tokens_server, prompt_tokens_client,
    sent_ns, coalesce(done_ns, last_token_ns) AS end_ns,
    (first_token_ns - sent_ns) / 1e6 AS ttft_ms, first_token_ns - sent_ns AS ttft_ns,
    CASE WHEN output_tokens > 1 THEN (last_token_ns - first_token_ns) / 1e6 / (output_tokens - 1) END AS tpot_ms,
    (last_token_ns - sent_ns) / 1e6 AS e2e_ms, last_token_ns - sent_ns AS e2e_ns,
    (sent_ns - scheduled_ns) / 1e6 AS send_lag_ms, sent_ns - scheduled_ns AS send_lag_ns,
    (last_token_ns - scheduled_ns) / 1e6 AS user_latency_ms, last_token_ns - scheduled_ns AS user_latency_ns
  FROM requests
),
per_request AS (
  SELECT
    run, endpoint, phase,
    count(*) AS requests,
    count(*) FILTER (WHERE is_ok) AS ok,
    count(*) FILTER (WHERE status <> 'ok') AS failed,
    count(*) FILTER (WHERE status = 'timeout') AS timeouts,
    sum(output_tokens) FILTER (WHERE is_ok) AS output_tokens,
    avg(coalesce(prompt_tokens_server, prompt_tokens_client)) FILTER (WHERE is_ok) AS prompt_tokens_mean,
    avg(output_tokens) FILTER (WHERE is_ok) AS output_tokens_mean,
    (max(end_ns) - min(sent_ns)) / 1e9 AS duration_s,
    avg(ttft_ms) FILTER (WHERE is_ok) AS ttft_ms_mean,
    stddev_pop(ttft_ms) FILTER (WHERE is_ok) AS ttft_ms_std,
    list_transform(quantile_cont(ttft_ns, [0.5, 0.9, 0.95, 0.99]) FILTER (WHERE is_ok), x -> x / 1e6) AS ttft_q,
    avg(tpot_ms) FILTER (WHERE is_ok) AS tpot_ms_mean,
    stddev_pop(tpot_ms) FILTER (WHERE is_ok) AS tpot_ms_std,
    quantile_cont(tpot_ms, [0.5, 0.9, 0.95, 0.99]) FILTER (WHERE is_ok) AS tpot_q,
    avg(e2e_ms) FILTER (WHERE is_ok) AS e2e_ms_mean,
    stddev_pop(e2e_ms) FILTER (WHERE is_ok) AS e2e_ms_std,
    list_transform(quantile_cont(e2e_ns, [0.5, 0.9, 0.95, 0.99]) FILTER (WHERE is_ok), x -> x / 1e6) AS e2e_q,
    avg(user_latency_ms) FILTER (WHERE is_ok) AS user_latency_ms_mean,
    list_transform(quantile_cont(user_latency_ns, [0.5, 0.99]) FILTER (WHERE is_ok), x -> x / 1e6) AS user_q,
    avg(send_lag_ms) AS send_lag_ms_mean,
    list_transform(quantile_cont(send_lag_ns, [0.5, 0.99]), x -> x / 1e6) AS send_lag_q,
    max(send_lag_ms) AS send_lag_ms_max
  FROM req
  GROUP BY ALL
),
chunk_times AS (
  -- per request, the chunk indexes and times as two lists filled in step (one aggregate, so their
  -- orders agree); in idx order already when the indexes read 0, 1, 2, … (chunks are appended in
  -- order), else sorted by (idx, t_ns)
  SELECT run, request_id, list(idx) AS i, list(t_ns) AS t FROM chunks GROUP BY run, request_id
),
ordered AS (
  SELECT run, request_id,
    CASE WHEN i = range(len(i))::INTEGER[] THEN t ELSE list_transform(list_sort(list_zip(i, t)), x -> x[2]) END AS t
  FROM chunk_times
),
gaps AS (
  -- ok requests only: join per request (1 row each), then unnest the gaps t[k+1] - t[k]
  SELECT r.run, r.endpoint, r.phase, unnest(list_transform(list_slice(c.t, 2, len(c.t)), (x, k) -> x - c.t[k])) AS itl_ns
  FROM ordered c JOIN requests r ON r.run = c.run AND r.request_id = c.request_id
  WHERE r.status = 'ok'
),
per_gap AS (
  SELECT run, endpoint, phase,
    count(itl_ns) AS itl_n,
    avg(itl_ns) / 1e6 AS itl_ms_mean,
    stddev_pop(itl_ns) / 1e6 AS itl_ms_std,
    list_transform(quantile_cont(itl_ns, [0.5, 0.9, 0.95, 0.99]), x -> x / 1e6) AS itl_q
  FROM gaps
  GROUP BY ALL
)
SELECT
  p.run, p.endpoint, p.phase,
  p.requests::BIGINT AS requests, p.ok::BIGINT AS ok, p.failed::BIGINT AS failed, p.timeouts::BIGINT AS timeouts,
  p.duration_s,
  p.ok / nullif(p.duration_s, 0) AS request_throughput,
  p.output_tokens / nullif(p.duration_s, 0) AS output_throughput,
  p.output_tokens::BIGINT AS output_tokens, p.prompt_tokens_mean, p.output_tokens_mean,
  p.ttft_ms_mean, p.ttft_ms_std, p.ttft_q[1] AS ttft_ms_p50, p.ttft_q[2] AS ttft_ms_p90, p.ttft_q[3] AS ttft_ms_p95, p.ttft_q[4] AS ttft_ms_p99,
  p.tpot_ms_mean, p.tpot_ms_std, p.tpot_q[1] AS tpot_ms_p50, p.tpot_q[2] AS tpot_ms_p90, p.tpot_q[3] AS tpot_ms_p95, p.tpot_q[4] AS tpot_ms_p99,
  coalesce(g.itl_n, 0)::BIGINT AS itl_n,
  g.itl_ms_mean, g.itl_ms_std, g.itl_q[1] AS itl_ms_p50, g.itl_q[2] AS itl_ms_p90, g.itl_q[3] AS itl_ms_p95, g.itl_q[4] AS itl_ms_p99,
  p.e2e_ms_mean, p.e2e_ms_std, p.e2e_q[1] AS e2e_ms_p50, p.e2e_q[2] AS e2e_ms_p90, p.e2e_q[3] AS e2e_ms_p95, p.e2e_q[4] AS e2e_ms_p99,
  p.user_latency_ms_mean, p.user_q[1] AS user_latency_ms_p50, p.user_q[2] AS user_latency_ms_p99,
  p.send_lag_ms_mean, p.send_lag_q[1] AS send_lag_ms_p50, p.send_lag_q[2] AS send_lag_ms_p99, p.send_lag_ms_max
FROM per_request p
LEFT JOIN per_gap g USING (run, endpoint, phase)
ORDER BY p.run, p.endpoint, p.phase
