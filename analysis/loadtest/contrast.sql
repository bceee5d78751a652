-- loadtest_contrast: each endpoint alone (scenario 'solo') against the mixed load (scenario 'mixed'): what sharing costs.
-- inputs: (none)
-- depends: loadtest_summary
-- grain: run × endpoint; endpoint '*' compares throughput: the sum of each endpoint alone against the mixed load
-- formulas: ttft_ratio = mixed ttft_p50_s / solo ttft_p50_s; latency_ratio likewise with latency_p50_s;
--   '*' row: solo tokens_per_s = Σ over endpoints of their solo tokens_per_s, mixed = the mixed scenario's '*' row;
--   throughput_ratio = mixed / solo tokens_per_s.
-- units: *_s seconds, tokens_per_s per second, ratios dimensionless.
WITH solo AS (SELECT * FROM loadtest_summary WHERE scenario = 'solo' AND endpoint <> '*'),
mixed AS (SELECT * FROM loadtest_summary WHERE scenario = 'mixed'),
per_ep AS (
  SELECT m.run, m.endpoint,
    s.ttft_p50_s AS solo_ttft_p50_s, m.ttft_p50_s AS mixed_ttft_p50_s,
    s.latency_p50_s AS solo_latency_p50_s, m.latency_p50_s AS mixed_latency_p50_s,
    s.latency_p90_s AS solo_latency_p90_s, m.latency_p90_s AS mixed_latency_p90_s,
    s.tpot_p50_ms AS solo_tpot_p50_ms, m.tpot_p50_ms AS mixed_tpot_p50_ms,
    s.tokens_per_s AS solo_tokens_per_s, m.tokens_per_s AS mixed_tokens_per_s
  FROM mixed m JOIN solo s USING (run, endpoint)
),
total AS (
  SELECT m.run, '*' AS endpoint,
    NULL::DOUBLE AS solo_ttft_p50_s, NULL::DOUBLE AS mixed_ttft_p50_s, NULL::DOUBLE AS solo_latency_p50_s, NULL::DOUBLE AS mixed_latency_p50_s,
    NULL::DOUBLE AS solo_latency_p90_s, NULL::DOUBLE AS mixed_latency_p90_s, NULL::DOUBLE AS solo_tpot_p50_ms, NULL::DOUBLE AS mixed_tpot_p50_ms,
    (SELECT sum(tokens_per_s) FROM solo WHERE solo.run = m.run) AS solo_tokens_per_s, m.tokens_per_s AS mixed_tokens_per_s
  FROM mixed m WHERE m.endpoint = '*'
)
SELECT *, mixed_ttft_p50_s / nullif(solo_ttft_p50_s, 0) AS ttft_ratio,
  mixed_latency_p50_s / nullif(solo_latency_p50_s, 0) AS latency_ratio,
  mixed_tokens_per_s / nullif(solo_tokens_per_s, 0) AS throughput_ratio
FROM (SELECT * FROM per_ep UNION ALL SELECT * FROM total)
ORDER BY run, endpoint = '*', endpoint
