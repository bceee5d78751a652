-- moe_bench: the benchmark figures of each dataset on each backend (vLLM bench serve's keys).
-- inputs: request_metrics, request_itl
-- depends: (none)
-- grain: run × backend × dataset (backend = extra.backend, else the endpoint name; phase = 'main' only)
-- formulas: ttft, tpot (output_tokens > 1), e2e per request from request_metrics; itl = request_itl's gaps between
--   successive chunks of a request, pooled over the dataset's ok requests;
--   latencies over ok requests; mean = avg, median/p99 = quantile_cont (linear interpolation), std = stddev_pop;
--   duration_s = (max(coalesce(done_ns, last_token_ns)) - min(coalesce(scheduled_ns, sent_ns))) / 1e9 over the dataset's requests;
--   request_throughput = ok / duration_s; output_throughput = Σ output_tokens / duration_s;
--   total_token_throughput = (Σ prompt tokens (server, else client) + Σ output_tokens) / duration_s;
--   predicted_score = extra.predicted_score, else the number after the last '_' of the dataset name ({index:03}_{score:.4f}).
-- units: *_ms milliseconds, duration_s seconds, *_throughput per second (requests or tokens).
WITH req AS (
  SELECT *,
    coalesce(json_extract_string(extra, '$.backend'), endpoint) AS backend,
    coalesce(TRY_CAST(json_extract_string(extra, '$.predicted_score') AS DOUBLE), TRY_CAST(regexp_extract(dataset, '_([0-9]+\.[0-9]+)$', 1) AS DOUBLE)) AS score
  FROM request_metrics
  WHERE phase = 'main'
),
gaps AS (
  SELECT r.run, r.backend, r.dataset, unnest(i.itl_ns) AS itl_ns
  FROM request_itl i JOIN req r ON r.run = i.run AND r.request_id = i.request_id
  WHERE r.is_ok
),
itl AS (
  -- the mean is summed over integer ns (exact, whatever order the gaps arrive in), then / 1e6
  SELECT run, backend, dataset, avg(itl_ns) / 1e6 AS mean_itl_ms,
    quantile_cont(itl_ns / 1e6, 0.5) AS median_itl_ms, quantile_cont(itl_ns / 1e6, 0.99) AS p99_itl_ms
  FROM gaps
  WHERE itl_ns IS NOT NULL
  GROUP BY run, backend, dataset
),
agg AS (
  SELECT run, backend, dataset,
    any_value(score) AS predicted_score,
    count(*)::BIGINT AS requests,
    count(*) FILTER (WHERE status = 'ok')::BIGINT AS completed,
    count(*) FILTER (WHERE status <> 'ok')::BIGINT AS failed,
    (max(end_ns) - min(coalesce(scheduled_ns, sent_ns))) / 1e9 AS duration_s,
    sum(output_tokens) FILTER (WHERE status = 'ok')::BIGINT AS total_output_tokens,
    sum(coalesce(prompt_tokens_server, prompt_tokens_client)) FILTER (WHERE status = 'ok')::BIGINT AS total_input_tokens,
    avg(ttft_ms) FILTER (WHERE status = 'ok') AS mean_ttft_ms,
    quantile_cont(ttft_ms, 0.5) FILTER (WHERE status = 'ok') AS median_ttft_ms,
    quantile_cont(ttft_ms, 0.99) FILTER (WHERE status = 'ok') AS p99_ttft_ms,
    stddev_pop(ttft_ms) FILTER (WHERE status = 'ok') AS std_ttft_ms,
    avg(tpot_ms) FILTER (WHERE status = 'ok') AS mean_tpot_ms,
    quantile_cont(tpot_ms, 0.5) FILTER (WHERE status = 'ok') AS median_tpot_ms,
    quantile_cont(tpot_ms, 0.99) FILTER (WHERE status = 'ok') AS p99_tpot_ms,
    avg(e2e_ms) FILTER (WHERE status = 'ok') AS mean_e2e_ms,
    quantile_cont(e2e_ms, 0.5) FILTER (WHERE status = 'ok') AS median_e2e_ms,
    quantile_cont(e2e_ms, 0.99) FILTER (WHERE status = 'ok') AS p99_e2e_ms
  FROM req
  GROUP BY run, backend, dataset
)
SELECT a.run, a.backend, a.dataset, a.predicted_score, a.requests, a.completed, a.failed, a.duration_s,
  a.completed / nullif(a.duration_s, 0) AS request_throughput,
  a.total_output_tokens / nullif(a.duration_s, 0) AS output_throughput,
  (coalesce(a.total_input_tokens, 0) + coalesce(a.total_output_tokens, 0)) / nullif(a.duration_s, 0) AS total_token_throughput,
  a.total_input_tokens, a.total_output_tokens,
  a.mean_ttft_ms, a.median_ttft_ms, a.p99_ttft_ms, a.std_ttft_ms,
  a.mean_tpot_ms, a.median_tpot_ms, a.p99_tpot_ms,
  i.mean_itl_ms, i.median_itl_ms, i.p99_itl_ms,
  a.mean_e2e_ms, a.median_e2e_ms, a.p99_e2e_ms
FROM agg a LEFT JOIN itl i USING (run, backend, dataset)
ORDER BY a.run, a.backend, a.dataset
