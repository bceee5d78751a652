-- imbalance_latency_by_gpu: TTFT and E2E per GPU under each balancer: what the imbalance costs the requests on the busy GPU.
-- inputs: request_metrics
-- depends: (none)
-- grain: run × shard × policy × mode × gpu (answered requests of both phases)
-- formulas: TTFT = first_token_ns − sent_ns; E2E = last_token_ns − sent_ns (request_metrics); p50/p90 = quantile_cont;
--   requests = answered requests (status ok); failed = the others sent to the GPU; mean_words = mean prompt words.
-- units: *_ms milliseconds; words.
SELECT run, shard, endpoint AS policy, dataset AS mode, gpu,
  count(*) FILTER (WHERE is_ok) AS requests,
  count(*) FILTER (WHERE NOT is_ok) AS failed,
  avg(prompt_words) AS mean_words,
  quantile_cont(ttft_ms, 0.5) FILTER (WHERE is_ok) AS ttft_p50_ms,
  quantile_cont(ttft_ms, 0.9) FILTER (WHERE is_ok) AS ttft_p90_ms,
  quantile_cont(e2e_ms, 0.5) FILTER (WHERE is_ok) AS e2e_p50_ms,
  quantile_cont(e2e_ms, 0.9) FILTER (WHERE is_ok) AS e2e_p90_ms
FROM request_metrics
WHERE gpu IS NOT NULL AND sent_ns IS NOT NULL
GROUP BY ALL
ORDER BY run, shard, policy, mode, gpu
