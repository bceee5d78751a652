-- predict_summary: how far the serving model's prediction is from the measurement, per run, in one row and one sentence.
-- inputs: (none)
-- depends: predict_requests, predict_percentiles
-- grain: run (main-phase requests, or every phase when the run has no main phase); no row when the run has no prediction
-- formulas: per metric (TTFT, TPOT, E2E) over requests: median |rel_err| = quantile_cont(abs(rel_err), 0.5),
--   p90 |rel_err| = quantile_cont(abs(rel_err), 0.9), bias = quantile_cont(rel_err, 0.5) (signed: > 0 the model is
--   slower); p50 error = (predicted p50 − measured p50) / measured p50 from predict_percentiles; rel_err as in
--   predict_requests; sentence formats the p50 errors and the per-request median |error|.
-- units: *_err and bias_* fractions (0.05 = 5 %), *_ms milliseconds, n requests.
WITH phase_pick AS (
  SELECT run, CASE WHEN bool_or(phase = 'main') THEN 'main' END AS only_phase FROM predict_requests GROUP BY run
),
r AS (
  SELECT q.* FROM predict_requests q JOIN phase_pick USING (run) WHERE only_phase IS NULL OR q.phase = only_phase
),
per_request AS (
  SELECT run, count(*) AS n,
    quantile_cont(abs(rel_err_ttft), 0.5) AS ttft_med_abs_err, quantile_cont(abs(rel_err_ttft), 0.9) AS ttft_p90_abs_err, quantile_cont(rel_err_ttft, 0.5) AS bias_ttft,
    quantile_cont(abs(rel_err_tpot), 0.5) AS tpot_med_abs_err, quantile_cont(abs(rel_err_tpot), 0.9) AS tpot_p90_abs_err, quantile_cont(rel_err_tpot, 0.5) AS bias_tpot,
    quantile_cont(abs(rel_err_e2e), 0.5) AS e2e_med_abs_err, quantile_cont(abs(rel_err_e2e), 0.9) AS e2e_p90_abs_err, quantile_cont(rel_err_e2e, 0.5) AS bias_e2e
  FROM r GROUP BY run
),
p50 AS (
  SELECT run,
    max(measured) FILTER (WHERE metric = 'ttft' AND stat = 'p50') AS ttft_p50_ms_measured,
    max(predicted) FILTER (WHERE metric = 'ttft' AND stat = 'p50') AS ttft_p50_ms_predicted,
    max(rel_err) FILTER (WHERE metric = 'ttft' AND stat = 'p50') AS ttft_p50_err,
    max(measured) FILTER (WHERE metric = 'tpot' AND stat = 'p50') AS tpot_p50_ms_measured,
    max(predicted) FILTER (WHERE metric = 'tpot' AND stat = 'p50') AS tpot_p50_ms_predicted,
    max(rel_err) FILTER (WHERE metric = 'tpot' AND stat = 'p50') AS tpot_p50_err,
    max(rel_err) FILTER (WHERE metric = 'e2e' AND stat = 'p50') AS e2e_p50_err,
    max(rel_err) FILTER (WHERE metric = 'output_throughput') AS throughput_err
  FROM predict_percentiles p JOIN phase_pick USING (run) WHERE only_phase IS NULL OR p.phase = only_phase
  GROUP BY run
)
SELECT per_request.*, p50.* EXCLUDE (run),
  format('The serving model predicts TTFT p50 {} ms vs {} ms measured ({}), TPOT p50 {} ms vs {} ms ({}), output throughput {}; per request the median error is {} for TTFT and {} for TPOT ({} requests).',
    coalesce(printf('%.1f', ttft_p50_ms_predicted), 'n/a'), coalesce(printf('%.1f', ttft_p50_ms_measured), 'n/a'), coalesce(printf('%+.1f%%', 100 * ttft_p50_err), 'n/a'),
    coalesce(printf('%.2f', tpot_p50_ms_predicted), 'n/a'), coalesce(printf('%.2f', tpot_p50_ms_measured), 'n/a'), coalesce(printf('%+.1f%%', 100 * tpot_p50_err), 'n/a'),
    coalesce(printf('%+.1f%%', 100 * throughput_err), 'n/a'), coalesce(printf('%.1f%%', 100 * ttft_med_abs_err), 'n/a'), coalesce(printf('%.1f%%', 100 * coalesce(tpot_med_abs_err, 0)), 'n/a'), n) AS sentence
FROM per_request JOIN p50 USING (run)
ORDER BY run
