-- loadtest_analysis: the Automatic Analysis lines (PASS/WARNING, the old tool's wording) of each scenario.
-- inputs: runs
-- depends: loadtest_summary
-- grain: run × scenario × check (error_rate, p90_latency, ttft), from the summary's endpoint '*' row
-- formulas: thresholds from the run's config (config.analysis: error_rate_max, p90_latency_max_seconds,
--   ttft_excellent_seconds), defaults 0.01, 2 s, 0.5 s; error_rate PASS when < error_rate_max;
--   p90 latency WARNING when > p90_latency_max_seconds; TTFT (p50) PASS when < ttft_excellent_seconds;
--   no successful request: both latency checks WARNING.
-- units: value and threshold: error_rate a fraction 0–1, latencies seconds.
WITH th AS (
  SELECT run,
    coalesce(TRY_CAST(json_extract(config, '$.analysis.error_rate_max') AS DOUBLE), 0.01) AS err_max,
    coalesce(TRY_CAST(json_extract(config, '$.analysis.p90_latency_max_seconds') AS DOUBLE), 2.0) AS p90_max,
    coalesce(TRY_CAST(json_extract(config, '$.analysis.ttft_excellent_seconds') AS DOUBLE), 0.5) AS ttft_max
  FROM runs
),
s AS (
  SELECT s.*, coalesce(th.err_max, 0.01) AS err_max, coalesce(th.p90_max, 2.0) AS p90_max, coalesce(th.ttft_max, 0.5) AS ttft_max
  FROM loadtest_summary s LEFT JOIN th USING (run)
  WHERE s.endpoint = '*'
)
SELECT run, scenario, 1 AS idx, 'error_rate' AS "check", error_rate AS value, err_max AS threshold,
  CASE WHEN error_rate < err_max THEN 'PASS' ELSE 'WARNING' END AS verdict,
  CASE WHEN error_rate < err_max THEN format('PASS: Error rate is acceptable ({:.1f}%)', 100 * error_rate)
       ELSE format('WARNING: Error rate is high ({:.1f}%). Check server logs and capacity.', 100 * error_rate) END AS line
FROM s
UNION ALL
SELECT run, scenario, 2, 'p90_latency', latency_p90_s, p90_max,
  CASE WHEN latency_p90_s IS NOT NULL AND latency_p90_s <= p90_max THEN 'PASS' ELSE 'WARNING' END,
  CASE WHEN latency_p90_s IS NULL THEN 'WARNING: P90 Latency is unknown (no successful request).'
       WHEN latency_p90_s > p90_max THEN format('WARNING: P90 Latency is high ({:.2f}s). User experience degraded.', latency_p90_s)
       ELSE format('PASS: P90 Latency is acceptable ({:.2f}s).', latency_p90_s) END
FROM s
UNION ALL
SELECT run, scenario, 3, 'ttft', ttft_p50_s, ttft_max,
  CASE WHEN ttft_p50_s IS NOT NULL AND ttft_p50_s < ttft_max THEN 'PASS' ELSE 'WARNING' END,
  CASE WHEN ttft_p50_s IS NULL THEN 'WARNING: TTFT is unknown (no successful request).'
       WHEN ttft_p50_s < ttft_max THEN format('PASS: TTFT is excellent ({:.2f}s).', ttft_p50_s)
       ELSE format('WARNING: TTFT is slow ({:.2f}s). Users wait for the first token.', ttft_p50_s) END
FROM s
ORDER BY run, scenario, idx
