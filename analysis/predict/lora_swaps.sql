-- predict_lora_swaps: measured vs predicted LoRA adapter swaps (requests whose adapter was not resident in HBM when scheduled).
-- inputs: requests, predicted_requests
-- depends: (none)
-- grain: run × endpoint (requests with an adapter, ok in both; rows only when the prediction ran LoRA slots)
-- formulas: resident = adapter_resident (the simulated /generate server reports it per response; the serving
--   model's prediction writes the same column; older records kept it in extra.adapter_resident); swaps = requests not resident; share = swaps / requests;
--   agree = share of requests where measured and predicted residency are the same; swaps_err = predicted − measured.
-- units: counts in requests; share and agree 0–1.
WITH m AS (
  SELECT run, request_id, endpoint, coalesce(adapter_resident, TRY_CAST(json_extract(extra, '$.adapter_resident') AS BOOLEAN)) AS resident
  FROM requests WHERE status = 'ok' AND adapter IS NOT NULL
),
p AS (
  SELECT run, request_id, coalesce(adapter_resident, TRY_CAST(json_extract(extra, '$.adapter_resident') AS BOOLEAN)) AS resident
  FROM predicted_requests WHERE status = 'ok' AND adapter IS NOT NULL
)
SELECT m.run, m.endpoint,
  count(*)::BIGINT AS requests,
  count(*) FILTER (WHERE m.resident IS NOT NULL)::BIGINT AS measured_known,
  count(*) FILTER (WHERE NOT m.resident)::BIGINT AS swaps_measured,
  count(*) FILTER (WHERE NOT p.resident)::BIGINT AS swaps_predicted,
  count(*) FILTER (WHERE NOT p.resident)::BIGINT - count(*) FILTER (WHERE NOT m.resident)::BIGINT AS swaps_err,
  count(*) FILTER (WHERE NOT m.resident) / nullif(count(*) FILTER (WHERE m.resident IS NOT NULL), 0) AS share_swapped_measured,
  count(*) FILTER (WHERE NOT p.resident) / count(*) AS share_swapped_predicted,
  avg(CASE WHEN m.resident = p.resident THEN 1 ELSE 0 END) FILTER (WHERE m.resident IS NOT NULL) AS agree
FROM m JOIN p USING (run, request_id)
WHERE p.resident IS NOT NULL
GROUP BY m.run, m.endpoint
ORDER BY m.run, m.endpoint
