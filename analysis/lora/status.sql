-- lora_status: the arrival-rate probe's COMPARATIVE SUMMARY per setting, with the old probe's statuses.
-- inputs: (none)
-- depends: sweep_status, lora_requests
-- grain: run × prompt_regime × total_loras × gpu_loras × rate (one row per probe point)
-- formulas: the point's figures and status come from sweep_status (TOO HIGH error rate > 1 %; SLOW p99 TTFT > 10 s;
--   UNSTABLE p99/median TTFT > 5; else OK; TTFT = server-reported where the protocol gives it, else the client's);
--   recommended = the highest OK rate of the setting. The setting (regime, N, M) is the one its requests were tagged with.
-- units: rate req/s; *_ms milliseconds; success_pct percent; avg_prompt_tokens LLaMA tokens.
WITH g AS (
  SELECT run, sweep_group, any_value(prompt_regime) AS prompt_regime, any_value(total_loras) AS total_loras, any_value(gpu_loras) AS gpu_loras
  FROM lora_requests WHERE step = 'probe' GROUP BY run, sweep_group
)
SELECT g.prompt_regime, g.total_loras, g.gpu_loras, s.offered_rate AS rate, s.requests, s.ok, s.success_pct,
  s.avg_prompt_tokens, s.p50_ttft_ms, s.p90_ttft_ms, s.p99_ttft_ms, s.p50_client_ttft_ms, s.p50_latency_ms, s.p99_latency_ms,
  s.error_rate, s.achieved_rate, s.saturated, s.status, s.recommended, s.run, s.sweep_group, s.sweep_index
FROM sweep_status s JOIN g USING (run, sweep_group)
ORDER BY s.run, g.prompt_regime, g.total_loras, g.gpu_loras, rate
