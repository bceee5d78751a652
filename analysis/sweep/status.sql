-- sweep_status: each point of a rate sweep (servelab sweep, servelab lora probe), classified as the old probe did.
-- inputs: request_metrics
-- depends: none
-- grain: run × sweep_group × sweep_index (requests tagged extra.sweep_group/sweep_index/sweep_mode/sweep_rate; warm-up left out)
-- formulas: ttft = server-reported ttft (server_ttft_s · 1000, the /generate protocol) when present, else the client's
--   ttft_ms (first non-empty content − sent); client_ttft_ms kept beside it. latency = e2e_ms (last token − sent).
--   error_rate = requests not ok / requests; success_pct = 100 · ok / requests; avg_prompt_tokens = mean client prompt tokens.
--   window_s = (max(done_ns) − min(scheduled_ns)) / 1e9; achieved_rate = ok / (window_s − p50 latency s) at a set rate (completions
--   per second once the pipeline delay of one typical request is taken off), ok / window_s in a closed loop (synchronous,
--   throughput); offered_rate = sweep_rate, else (closed loop) requests / window_s. ttft_growth = p50 ttft of the last third of sends / p50 of the first third.
--   saturated = achieved_rate < 0.9 · offered_rate (the server falls behind) OR (ttft_growth > 3 AND requests ≥ 9) (queue grows).
--   status (first that applies): 'TOO HIGH' error_rate > 1 %; 'SLOW' p99 ttft > 10 s; 'UNSTABLE' p99 / p50 ttft > 5; else 'OK'.
--   recommended = the highest offered_rate of the group whose status is OK. Percentiles: quantile_cont (linear).
-- units: rates req/s; *_ms milliseconds; window_s seconds.
WITH r AS (
  SELECT *,
    json_extract_string(extra, '$.sweep_group') AS sweep_group,
    TRY_CAST(json_extract(extra, '$.sweep_index') AS INTEGER) AS sweep_index,
    json_extract_string(extra, '$.sweep_mode') AS sweep_mode,
    TRY_CAST(json_extract(extra, '$.sweep_rate') AS DOUBLE) AS sweep_rate,
    coalesce(server_ttft_s * 1000, ttft_ms) AS ttft_use_ms
  FROM request_metrics
  WHERE phase <> 'warmup' AND json_extract(extra, '$.sweep_index') IS NOT NULL
),
ranked AS (
  SELECT *, ntile(3) OVER (PARTITION BY run, sweep_group, sweep_index ORDER BY sent_ns) AS third FROM r WHERE is_ok
),
growth AS (
  SELECT run, sweep_group, sweep_index,
    quantile_cont(ttft_use_ms, 0.5) FILTER (WHERE third = 3) / nullif(quantile_cont(ttft_use_ms, 0.5) FILTER (WHERE third = 1), 0) AS ttft_growth
  FROM ranked GROUP BY ALL
),
pts AS (
  SELECT run, sweep_group, sweep_index,
    any_value(sweep_mode) AS sweep_mode,
    any_value(sweep_rate) AS sweep_rate,
    count(*)::BIGINT AS requests,
    count(*) FILTER (WHERE is_ok)::BIGINT AS ok,
    avg(prompt_tokens_client) AS avg_prompt_tokens,
    quantile_cont(ttft_use_ms, 0.5) FILTER (WHERE is_ok) AS p50_ttft_ms,
    quantile_cont(ttft_use_ms, 0.9) FILTER (WHERE is_ok) AS p90_ttft_ms,
    quantile_cont(ttft_use_ms, 0.99) FILTER (WHERE is_ok) AS p99_ttft_ms,
    avg(ttft_use_ms) FILTER (WHERE is_ok) AS mean_ttft_ms,
    quantile_cont(ttft_ms, 0.5) FILTER (WHERE is_ok) AS p50_client_ttft_ms,
    quantile_cont(e2e_ms, 0.5) FILTER (WHERE is_ok) AS p50_latency_ms,
    quantile_cont(e2e_ms, 0.99) FILTER (WHERE is_ok) AS p99_latency_ms,
    (max(coalesce(done_ns, last_token_ns, sent_ns)) - min(coalesce(scheduled_ns, sent_ns))) / 1e9 AS window_s,
    bool_or(server_ttft_s IS NOT NULL) AS server_ttft
  FROM r GROUP BY run, sweep_group, sweep_index
),
m AS (
  SELECT p.*, g.ttft_growth,
    1 - ok / requests AS error_rate,
    100.0 * ok / requests AS success_pct,
    coalesce(sweep_rate, requests / nullif(window_s, 0)) AS offered_rate,
    CASE WHEN sweep_rate IS NULL THEN ok / nullif(window_s, 0)
         ELSE ok / nullif(window_s - coalesce(p50_latency_ms, 0) / 1000, 0) END AS achieved_rate
  FROM pts p LEFT JOIN growth g USING (run, sweep_group, sweep_index)
),
s AS (
  SELECT *,
    coalesce(achieved_rate < 0.9 * offered_rate, false) OR coalesce(ttft_growth > 3 AND requests >= 9, false) AS saturated,
    CASE WHEN error_rate > 0.01 THEN 'TOO HIGH'
         WHEN p99_ttft_ms > 10000 THEN 'SLOW'
         WHEN p99_ttft_ms / nullif(p50_ttft_ms, 0) > 5 THEN 'UNSTABLE'
         ELSE 'OK' END AS status
  FROM m
)
SELECT *,
  status = 'OK' AND offered_rate = max(offered_rate) FILTER (WHERE status = 'OK') OVER (PARTITION BY run, sweep_group) AS recommended
FROM s
ORDER BY run, sweep_group, sweep_index
