-- bench_result: the vLLM `bench serve` result figures of one benchmark run, as (key, value) rows
-- that collectors/bench.ts assembles into the result JSON under vLLM's key names.
-- inputs: request_metrics (phase = 'main'), request_itl (the catalog's per-request metrics); bench_params (one row, made by the caller:
--   metrics VARCHAR[] e.g. ['ttft','tpot','itl'], percentiles DOUBLE[] e.g. [99],
--   goodput_ttft_ms, goodput_tpot_ms, goodput_e2el_ms DOUBLE, NULL when not given) and the
--   variable bench_quantiles = percentiles / 100 (quantile_cont needs constant fractions).
-- depends: none. grain: one row per output key.
-- formulas (ms unless named _s; all on the monotonic clock), per request from request_metrics / request_itl:
--   ttft = ttft_ms (first non-empty content; vLLM counts the role-only chat chunk)
--   tpot = tpot_ms, requests with output_tokens > 1
--   itl  = request_itl's gaps between successive chunks of a request (chunks from the first token on), pooled
--   e2el = e2e_ms;  client_queue_time = send_lag_ms;
--   e2el_including_client_queue = user_latency_ms
--   duration_s = max(done_ns) - min(scheduled_ns) over the main phase
--   p50/p99_send_lag_ms = sent_ns - scheduled_ns over every sent request (the pacer's lateness;
--   under a concurrency cap it includes the client queue)
--   mean = avg, std = stddev_pop, median and pNN = quantile_cont (linear interpolation, numpy default)
--   goodput: a completed request is good when every given SLO >= its value (tpot 0 when output <= 1)
--   contention errors = timeouts + HTTP 503.
--   server ttft (mean/median/p99_server_ttft_ms) = server_ttft_s · 1000 of completed requests, only when the
--   protocol reports one (the /generate `ttft`, from the server's arrival: no network or client time).
WITH main AS (
  SELECT * FROM request_metrics WHERE phase = 'main'
),
ok AS (
  SELECT *,
    ttft_ms AS ttft, tpot_ms AS tpot, e2e_ms AS e2el,
    send_lag_ms AS client_queue_time, user_latency_ms AS e2el_including_client_queue
  FROM main WHERE is_ok
),
itl AS (
  SELECT unnest(i.itl_ns) / 1e6 AS v
  FROM request_itl i JOIN ok USING (run, request_id)
),
samples AS (
  SELECT 'ttft' AS metric, ttft AS v FROM ok
  UNION ALL SELECT 'tpot', tpot FROM ok WHERE tpot IS NOT NULL
  UNION ALL SELECT 'e2el', e2el FROM ok
  UNION ALL SELECT 'itl', v FROM itl WHERE v IS NOT NULL
  UNION ALL SELECT 'client_queue_time', client_queue_time FROM ok
  UNION ALL SELECT 'e2el_including_client_queue', e2el_including_client_queue FROM ok
),
chosen AS (
  SELECT s.* FROM samples s, bench_params p WHERE list_contains(p.metrics, s.metric)
),
qs AS (
  SELECT metric, quantile_cont(v, getvariable('bench_quantiles')) AS qv FROM chosen GROUP BY metric
),
stats AS (
  SELECT metric, 'mean_' || metric || '_ms' AS key, avg(v) AS value FROM chosen GROUP BY metric
  UNION ALL SELECT metric, 'median_' || metric || '_ms', quantile_cont(v, 0.5) FROM chosen GROUP BY metric
  UNION ALL SELECT metric, 'std_' || metric || '_ms', stddev_pop(v) FROM chosen GROUP BY metric
  UNION ALL
  SELECT metric,
    'p' || CASE WHEN pr.percentiles[i] = floor(pr.percentiles[i]) THEN CAST(CAST(pr.percentiles[i] AS BIGINT) AS VARCHAR)
                ELSE CAST(pr.percentiles[i] AS VARCHAR) END || '_' || metric || '_ms',
    qv[i]
  FROM qs, bench_params pr, range(1, len(pr.percentiles) + 1) r(i)
),
span AS (
  SELECT (max(coalesce(done_ns, last_token_ns, sent_ns, scheduled_ns)) - min(coalesce(scheduled_ns, sent_ns))) / 1e9 AS duration FROM main
),
edges AS (
  SELECT sent_ns AS t, 1 AS d FROM main WHERE sent_ns IS NOT NULL
  UNION ALL SELECT coalesce(done_ns, sent_ns), -1 FROM main WHERE sent_ns IS NOT NULL
),
conc AS (
  SELECT max(n) AS max_concurrent FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS n FROM edges)
),
good AS (
  SELECT count(*) AS n FROM ok, bench_params p
  WHERE (p.goodput_ttft_ms IS NULL OR ttft <= p.goodput_ttft_ms)
    AND (p.goodput_tpot_ms IS NULL OR coalesce(tpot, 0) <= p.goodput_tpot_ms)
    AND (p.goodput_e2el_ms IS NULL OR e2el <= p.goodput_e2el_ms)
),
totals AS (
  SELECT
    (SELECT count(*) FROM ok) AS completed,
    (SELECT count(*) FROM main WHERE status <> 'ok') AS failed,
    (SELECT coalesce(sum(coalesce(prompt_tokens_client, prompt_tokens_server)), 0) FROM ok) AS total_input_tokens,
    (SELECT coalesce(sum(output_tokens), 0) FROM ok) AS total_output_tokens,
    (SELECT duration FROM span) AS duration
),
scalars AS (
  SELECT 'duration' AS key, duration AS value FROM totals
  UNION ALL SELECT 'completed', completed FROM totals
  UNION ALL SELECT 'failed', failed FROM totals
  UNION ALL SELECT 'total_input_tokens', total_input_tokens FROM totals
  UNION ALL SELECT 'total_output_tokens', total_output_tokens FROM totals
  UNION ALL SELECT 'request_throughput', completed / nullif(duration, 0) FROM totals
  UNION ALL SELECT 'output_throughput', total_output_tokens / nullif(duration, 0) FROM totals
  UNION ALL SELECT 'total_token_throughput', (total_input_tokens + total_output_tokens) / nullif(duration, 0) FROM totals
  UNION ALL SELECT 'request_goodput',
    CASE WHEN p.goodput_ttft_ms IS NULL AND p.goodput_tpot_ms IS NULL AND p.goodput_e2el_ms IS NULL THEN NULL
         ELSE (SELECT n FROM good) / nullif(t.duration, 0) END
    FROM totals t, bench_params p
  UNION ALL SELECT 'max_concurrent_requests', max_concurrent FROM conc
  UNION ALL SELECT 'errors.' || status, count(*) FROM main WHERE status <> 'ok' GROUP BY status
  UNION ALL SELECT 'errors.http_' || http_status, count(*) FROM main WHERE status = 'http_error' GROUP BY http_status
  UNION ALL SELECT 'errors.contention', count(*) FROM main WHERE status = 'timeout' OR http_status = 503
  UNION ALL SELECT 'token_mismatches', count(*) FROM main WHERE token_mismatch
  UNION ALL SELECT 'p50_send_lag_ms', quantile_cont(send_lag_ms, 0.5) FROM main WHERE sent_ns IS NOT NULL
  UNION ALL SELECT 'p99_send_lag_ms', quantile_cont(send_lag_ms, 0.99) FROM main WHERE sent_ns IS NOT NULL
  UNION ALL SELECT 'mean_server_ttft_ms', avg(server_ttft_s) * 1000 FROM ok WHERE server_ttft_s IS NOT NULL HAVING count(*) > 0
  UNION ALL SELECT 'median_server_ttft_ms', quantile_cont(server_ttft_s, 0.5) * 1000 FROM ok WHERE server_ttft_s IS NOT NULL HAVING count(*) > 0
  UNION ALL SELECT 'p99_server_ttft_ms', quantile_cont(server_ttft_s, 0.99) * 1000 FROM ok WHERE server_ttft_s IS NOT NULL HAVING count(*) > 0
)
SELECT key, CAST(value AS DOUBLE) AS value, 0 AS ord FROM scalars
UNION ALL
SELECT key, CAST(value AS DOUBLE), CASE metric WHEN 'ttft' THEN 1 WHEN 'tpot' THEN 2 WHEN 'itl' THEN 3 WHEN 'e2el' THEN 4 WHEN 'client_queue_time' THEN 5 ELSE 6 END
FROM stats
ORDER BY ord, key
