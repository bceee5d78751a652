-- lora_requests: every request of the LoRA experiment with its setting, adapter residency and the TTFT used.
-- inputs: request_metrics
-- depends: none
-- grain: run × request of the experiment (tagged extra.lora_step; warm-up left out)
-- formulas: step = extra.lora_step ('probe' | 'sweep'); total_loras, gpu_loras (N, M), prompt_regime, arrival_rate, adapter_idx from extra;
--   resident = adapter_resident (the server said: the adapter was in HBM when scheduled), else adapter_idx < gpu_loras
--   (adapters 0…M−1 are preloaded: the placement rule when the server does not say, e.g. vLLM); resident_source says which.
--   ttft_ms = server_ttft_s · 1000 (the /generate ttft, from the server's arrival) when present, else the client's ttft_ms;
--   client_ttft_ms = first non-empty content − sent; server_ttft_ms; latency_ms = e2e_ms (last token − sent).
-- units: *_ms milliseconds; rates req/s.
SELECT run, request_id, phase, status, is_ok, adapter, sent_ns,
  json_extract_string(extra, '$.lora_step') AS step,
  TRY_CAST(json_extract(extra, '$.total_loras') AS INTEGER) AS total_loras,
  TRY_CAST(json_extract(extra, '$.gpu_loras') AS INTEGER) AS gpu_loras,
  json_extract_string(extra, '$.prompt_regime') AS prompt_regime,
  TRY_CAST(json_extract(extra, '$.arrival_rate') AS DOUBLE) AS arrival_rate,
  TRY_CAST(json_extract(extra, '$.adapter_idx') AS INTEGER) AS adapter_idx,
  json_extract_string(extra, '$.sweep_group') AS sweep_group,
  coalesce(adapter_resident, TRY_CAST(json_extract(extra, '$.adapter_idx') AS INTEGER) < TRY_CAST(json_extract(extra, '$.gpu_loras') AS INTEGER)) AS resident,
  CASE WHEN adapter_resident IS NOT NULL THEN 'server' ELSE 'placement' END AS resident_source,
  coalesce(server_ttft_s * 1000, ttft_ms) AS ttft_ms,
  ttft_ms AS client_ttft_ms,
  server_ttft_s * 1000 AS server_ttft_ms,
  e2e_ms AS latency_ms,
  prompt_tokens_client
FROM request_metrics
WHERE phase <> 'warmup' AND json_extract_string(extra, '$.lora_step') IS NOT NULL
