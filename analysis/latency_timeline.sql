-- latency_timeline: load, latency and throughput of each endpoint over the run, in time buckets.
-- inputs: request_metrics, chunks
-- depends: (none)
-- grain: run × endpoint × bucket, every bucket from 0 to the run's last (bucket_s = whole seconds, at most about 120 buckets per run)
-- formulas: t_s = bucket start, seconds since run start; by send time: sent, ok, failed,
--   ttft/e2e p50 and p99 (quantile_cont, ok requests), send lag mean and max (metrics from request_metrics);
--   by end time (coalesce(done_ns, last_token_ns)): completed_per_s = finished requests / bucket_s,
--   output_tokens_per_s = output_tokens of ok requests finishing in the bucket / bucket_s;
--   by chunk arrival: chunk_tokens_per_s = sum(coalesce(tokens, 1)) / bucket_s (0 when no chunks).
-- units: t_s and bucket_s seconds, *_ms milliseconds, *_per_s per second.
WITH span AS (
  SELECT run, greatest(1, ceil((max(coalesce(done_ns, last_token_ns, sent_ns)) - min(sent_ns)) / 1e9 / 120))::BIGINT AS bucket_s
  FROM request_metrics GROUP BY run
),
req AS (
  SELECT r.*, s.bucket_s,
    floor(r.sent_ns / 1e9 / s.bucket_s)::BIGINT AS sent_b,
    floor(r.end_ns / 1e9 / s.bucket_s)::BIGINT AS end_b
  FROM request_metrics r JOIN span s USING (run)
),
by_send AS (
  SELECT run, endpoint, sent_b AS b, any_value(bucket_s) AS bucket_s,
    count(*)::BIGINT AS sent,
    count(*) FILTER (WHERE status = 'ok')::BIGINT AS ok,
    count(*) FILTER (WHERE status <> 'ok')::BIGINT AS failed,
    quantile_cont(ttft_ms, [0.5, 0.99]) FILTER (WHERE status = 'ok') AS ttft_q,
    quantile_cont(e2e_ms, [0.5, 0.99]) FILTER (WHERE status = 'ok') AS e2e_q,
    avg(send_lag_ms) AS send_lag_ms_mean,
    max(send_lag_ms) AS send_lag_ms_max
  FROM req WHERE sent_b IS NOT NULL GROUP BY ALL
),
by_end AS (
  SELECT run, endpoint, end_b AS b, any_value(bucket_s) AS bucket_s,
    count(*)::BIGINT AS completed,
    coalesce(sum(output_tokens) FILTER (WHERE status = 'ok'), 0)::BIGINT AS output_tokens
  FROM req WHERE end_b IS NOT NULL GROUP BY ALL
),
by_chunk AS (
  SELECT r.run, r.endpoint, floor(c.t_ns / 1e9 / r.bucket_s)::BIGINT AS b, any_value(r.bucket_s) AS bucket_s,
    sum(coalesce(c.tokens, 1))::BIGINT AS chunk_tokens
  FROM chunks c JOIN req r ON r.run = c.run AND r.request_id = c.request_id
  GROUP BY ALL
),
bucket_ends AS (
  SELECT run, max(b) AS max_b FROM (SELECT run, b FROM by_send UNION ALL SELECT run, b FROM by_end UNION ALL SELECT run, b FROM by_chunk) GROUP BY run
),
keys AS (
  -- every bucket from 0 to the run's last, so idle stretches show as zero throughput
  SELECT e.run, e.endpoint, e.bucket_s, unnest(range(0, m.max_b + 1)) AS b
  FROM (SELECT run, endpoint, any_value(bucket_s) AS bucket_s FROM req GROUP BY ALL) e
  JOIN bucket_ends m USING (run)
)
SELECT k.run, k.endpoint, (k.b * k.bucket_s)::DOUBLE AS t_s, k.bucket_s::DOUBLE AS bucket_s,
  coalesce(s.sent, 0) AS sent, coalesce(s.ok, 0) AS ok, coalesce(s.failed, 0) AS failed,
  s.ttft_q[1] AS ttft_ms_p50, s.ttft_q[2] AS ttft_ms_p99, s.e2e_q[1] AS e2e_ms_p50, s.e2e_q[2] AS e2e_ms_p99,
  s.send_lag_ms_mean, s.send_lag_ms_max,
  coalesce(e.completed, 0) / k.bucket_s AS completed_per_s,
  coalesce(e.output_tokens, 0) / k.bucket_s AS output_tokens_per_s,
  coalesce(c.chunk_tokens, 0) / k.bucket_s AS chunk_tokens_per_s
FROM keys k
LEFT JOIN by_send s USING (run, endpoint, b)
LEFT JOIN by_end e USING (run, endpoint, b)
LEFT JOIN by_chunk c USING (run, endpoint, b)
ORDER BY k.run, k.endpoint, t_s
