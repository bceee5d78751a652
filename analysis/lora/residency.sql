-- lora_residency: TTFT of requests whose adapter was resident in HBM when scheduled vs those that needed a swap.
-- inputs: (none)
-- depends: lora_requests
-- grain: run × prompt_regime × total_loras × gpu_loras × resident (sweep requests, ok only)
-- formulas: resident as in lora_requests (server-reported, else adapter_idx < gpu_loras); n = requests;
--   share = n / requests of the sweep value; ttft p50/p90/p99 = quantile_cont, mean = avg (lora_requests.ttft_ms).
-- units: *_ms milliseconds; share 0–1.
SELECT run, prompt_regime, total_loras, gpu_loras, resident,
  CASE WHEN resident THEN 'resident' ELSE 'swapped in' END AS residency,
  any_value(resident_source) AS resident_source,
  count(*)::BIGINT AS n,
  count(*) / sum(count(*)) OVER (PARTITION BY run, prompt_regime, total_loras, gpu_loras) AS share,
  quantile_cont(ttft_ms, 0.5) AS ttft_p50_ms,
  quantile_cont(ttft_ms, 0.9) AS ttft_p90_ms,
  quantile_cont(ttft_ms, 0.99) AS ttft_p99_ms,
  avg(ttft_ms) AS ttft_mean_ms
FROM lora_requests
WHERE step = 'sweep' AND is_ok AND resident IS NOT NULL
GROUP BY run, prompt_regime, total_loras, gpu_loras, resident
ORDER BY run, prompt_regime, total_loras, gpu_loras DESC, resident DESC
