-- lora_rate: the arrival rate the sweep runs at, per prompt regime: the highest probed rate that is OK at every probed HBM budget.
-- inputs: (none)
-- depends: lora_status
-- grain: run × prompt_regime
-- formulas: picked_rate = max(rate) over rates whose status is OK at every probed (total_loras, gpu_loras) of the regime;
--   when no rate is OK everywhere, the lowest probed rate (any_ok = false says so). budgets = probed settings.
-- units: req/s.
WITH per_rate AS (
  SELECT run, prompt_regime, rate, bool_and(status = 'OK') AS ok_everywhere, count(*) AS budgets
  FROM lora_status GROUP BY run, prompt_regime, rate
)
SELECT run, prompt_regime,
  coalesce(max(rate) FILTER (WHERE ok_everywhere), min(rate)) AS picked_rate,
  bool_or(ok_everywhere) AS any_ok,
  max(budgets) AS budgets,
  list(rate ORDER BY rate) AS probed_rates
FROM per_rate
GROUP BY run, prompt_regime
ORDER BY run, prompt_regime
