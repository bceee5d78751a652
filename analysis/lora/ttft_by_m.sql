-- lora_ttft_by_m: the HBM-budget sweep: TTFT, latency, success and LoRA swaps per resident-adapter budget M.
-- inputs: scrapes
-- depends: lora_requests
-- grain: run × prompt_regime × total_loras × gpu_loras (one sweep value; arrival_rate is the sweep's)
-- formulas: over the value's sweep requests: num_requests = all, success_count = ok; ttft_* over ok requests (lora_requests.ttft_ms:
--   server-reported where the protocol gives it, else the client's): median/p90/p99 = quantile_cont, mean = avg; latency likewise on e2e.
--   swap_calls, swap_count = the server's /swap_stats runtime counters read after the value's load (reset before it), from
--   scrapes metric lora_swap_calls / lora_swap_count (scope runtime); NULL when the server has no /swap_stats.
--   status = 'failed' when the value's point marker (scrapes lora_sweep_point_ok = 0) says its server failed, else 'ok'; error its text.
--   ttft_p50_change_pct = 100 · (p50 / p50 at M = N of the same regime and N − 1) (from all-resident to this budget).
--   *_s columns are the same in seconds (the old CSV's unit).
-- units: *_ms milliseconds, *_s seconds, rates req/s, swaps counts.
WITH req AS (
  SELECT run, prompt_regime, total_loras, gpu_loras,
    any_value(arrival_rate) AS arrival_rate,
    count(*)::BIGINT AS num_requests,
    count(*) FILTER (WHERE is_ok)::BIGINT AS success_count,
    quantile_cont(ttft_ms, 0.5) FILTER (WHERE is_ok) AS ttft_median_ms,
    quantile_cont(ttft_ms, 0.9) FILTER (WHERE is_ok) AS ttft_p90_ms,
    quantile_cont(ttft_ms, 0.99) FILTER (WHERE is_ok) AS ttft_p99_ms,
    avg(ttft_ms) FILTER (WHERE is_ok) AS ttft_mean_ms,
    quantile_cont(latency_ms, 0.5) FILTER (WHERE is_ok) AS latency_median_ms,
    quantile_cont(latency_ms, 0.99) FILTER (WHERE is_ok) AS latency_p99_ms,
    avg(latency_ms) FILTER (WHERE is_ok) AS latency_mean_ms,
    avg(resident::INTEGER) AS resident_share
  FROM lora_requests WHERE step = 'sweep' GROUP BY ALL
),
sc AS (
  SELECT run, metric, value,
    json_extract_string(labels, '$.prompt_regime') AS prompt_regime,
    TRY_CAST(json_extract(labels, '$.total_loras') AS INTEGER) AS total_loras,
    TRY_CAST(json_extract(labels, '$.gpu_loras') AS INTEGER) AS gpu_loras,
    json_extract_string(labels, '$.scope') AS scope,
    json_extract_string(labels, '$.error') AS error,
    TRY_CAST(json_extract(labels, '$.arrival_rate') AS DOUBLE) AS arrival_rate
  FROM scrapes WHERE metric IN ('lora_swap_calls', 'lora_swap_count', 'lora_sweep_point_ok')
),
pt AS (
  SELECT run, prompt_regime, total_loras, gpu_loras,
    any_value(arrival_rate) AS arrival_rate,
    max(value) FILTER (WHERE metric = 'lora_swap_calls' AND scope = 'runtime')::BIGINT AS swap_calls,
    max(value) FILTER (WHERE metric = 'lora_swap_count' AND scope = 'runtime')::BIGINT AS swap_count,
    min(value) FILTER (WHERE metric = 'lora_sweep_point_ok') AS point_ok,
    any_value(error) FILTER (WHERE metric = 'lora_sweep_point_ok' AND value = 0) AS error
  FROM sc GROUP BY ALL
),
j AS (
  SELECT run, prompt_regime, total_loras, gpu_loras,
    coalesce(req.arrival_rate, pt.arrival_rate) AS arrival_rate,
    coalesce(num_requests, 0) AS num_requests, coalesce(success_count, 0) AS success_count,
    ttft_median_ms, ttft_p90_ms, ttft_p99_ms, ttft_mean_ms, latency_median_ms, latency_p99_ms, latency_mean_ms, resident_share,
    swap_calls, swap_count,
    CASE WHEN point_ok = 0 THEN 'failed' ELSE 'ok' END AS status, error
  FROM req FULL JOIN pt USING (run, prompt_regime, total_loras, gpu_loras)
)
SELECT *,
  success_count / nullif(num_requests, 0) AS success_rate,
  num_requests - success_count AS error_count,
  ttft_median_ms / 1000 AS ttft_median_s, ttft_p99_ms / 1000 AS ttft_p99_s, ttft_mean_ms / 1000 AS ttft_mean_s, ttft_p90_ms / 1000 AS ttft_p90_s,
  latency_median_ms / 1000 AS latency_median_s, latency_p99_ms / 1000 AS latency_p99_s, latency_mean_ms / 1000 AS latency_mean_s,
  100 * (ttft_median_ms / nullif(max(ttft_median_ms) FILTER (WHERE gpu_loras = total_loras) OVER (PARTITION BY run, prompt_regime, total_loras), 0) - 1) AS ttft_p50_change_pct
FROM j
ORDER BY run, prompt_regime, total_loras, gpu_loras DESC
