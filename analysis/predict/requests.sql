-- predict_requests: each measured request beside the serving model's prediction of it (servelab sim predict).
-- inputs: request_metrics, predicted_request_metrics
-- depends: (none)
-- grain: run × request (requests ok in both the measurement and the prediction)
-- formulas: metric_measured from request_metrics, metric_predicted from predicted_request_metrics (same glossary
--   formulas: TTFT, TPOT, E2E); rel_err_metric = (predicted - measured) / measured (signed: > 0 the model is slower);
--   NULL where the measured value is 0 or missing (TPOT of one-token outputs). A measured TTFT the server reports
--   (server_ttft_s: the /generate protocol, whose replies are not streamed, so the client sees only the whole
--   reply) is taken over the client's, which there is the whole response time.
-- units: *_ms milliseconds, rel_err_* a fraction (0.05 = 5 %).
SELECT
  m.run, m.endpoint, m.phase, m.dataset, m.request_id, m.adapter,
  coalesce(m.prompt_tokens_server, m.prompt_tokens_client) AS prompt_tokens, m.output_tokens,
  coalesce(m.server_ttft_s * 1e3, m.ttft_ms) AS ttft_ms_measured, p.ttft_ms AS ttft_ms_predicted,
  m.tpot_ms AS tpot_ms_measured, p.tpot_ms AS tpot_ms_predicted,
  m.e2e_ms AS e2e_ms_measured, p.e2e_ms AS e2e_ms_predicted,
  (p.ttft_ms - coalesce(m.server_ttft_s * 1e3, m.ttft_ms)) / nullif(coalesce(m.server_ttft_s * 1e3, m.ttft_ms), 0) AS rel_err_ttft,
  (p.tpot_ms - m.tpot_ms) / nullif(m.tpot_ms, 0) AS rel_err_tpot,
  (p.e2e_ms - m.e2e_ms) / nullif(m.e2e_ms, 0) AS rel_err_e2e
FROM request_metrics m
JOIN predicted_request_metrics p ON p.run = m.run AND p.request_id = m.request_id
WHERE m.is_ok AND p.is_ok
ORDER BY m.run, m.sent_ns, m.request_id
