-- latency_summary: request counts and latency statistics of each endpoint and phase of a run.
-- inputs: request_metrics, request_itl
-- depends: (none)
-- grain: run × endpoint × phase
-- formulas: TTFT, TPOT (output_tokens > 1), E2E, send lag, user-visible latency per request from request_metrics,
--   ITL gaps from request_itl (the formulas live there); send lag over every request that was sent;
--   latencies count ok requests only; mean, std = stddev_pop, pNN = quantile_cont (linear interpolation; over integer ns
--   where the metric is a difference of timestamps, then / 1e6);
--   duration_s = (max(coalesce(done_ns, last_token_ns)) - min(sent_ns)) / 1e9 over the phase's requests;
--   request_throughput = ok / duration_s; output_throughput = sum(output_tokens of ok) / duration_s.
-- units: *_ms milliseconds, duration_s seconds, *_throughput per second, counts in requests, itl_n in gaps.
WITH per_request AS (
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
  FROM request_metrics
  GROUP BY ALL
),
gaps AS (
  -- ok requests only: join per request (1 row each), then unnest its gaps
  SELECT r.run, r.endpoint, r.phase, unnest(i.itl_ns) AS itl_ns
  FROM request_itl i JOIN request_metrics r ON r.run = i.run AND r.request_id = i.request_id
  WHERE r.is_ok
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
