-- imbalance_summary: the old scripts' RESULTS SUMMARY per load (generate, replay or warmup under one balancer).
-- inputs: requests
-- depends: (none)
-- grain: run × shard × endpoint (balancer label) × dataset (generate | replay | warmup)
-- formulas: prompts_sent = requests sent (sent_ns set); prompts_received = status 'ok'; prompts_failed = sent − received;
--   tokens_generated = Σ prompt_words of the prompts sent (the generator's tokens are words, as the old scripts counted);
--   tokens_received = Σ output_tokens of the responses received (server usage, else the client tokenizer);
--   elapsed_s = (last response end − first send) / 1e9; tokens_per_s_* = tokens / elapsed_s;
--   metrics_failures = requests whose concurrency came from the client's own count because the metrics endpoint failed;
--   http_400 = requests the server refused with 400 (e.g. a prompt over the context).
-- units: counts; tokens (words for generated); seconds; tokens per second.
SELECT run, shard, endpoint, dataset,
  count(*) FILTER (WHERE sent_ns IS NOT NULL) AS prompts_sent,
  count(*) FILTER (WHERE status = 'ok') AS prompts_received,
  count(*) FILTER (WHERE sent_ns IS NOT NULL) - count(*) FILTER (WHERE status = 'ok') AS prompts_failed,
  coalesce(sum(prompt_words) FILTER (WHERE sent_ns IS NOT NULL), 0)::BIGINT AS tokens_generated,
  coalesce(sum(output_tokens) FILTER (WHERE status = 'ok'), 0)::BIGINT AS tokens_received,
  (max(coalesce(done_ns, last_token_ns, sent_ns)) - min(sent_ns)) / 1e9 AS elapsed_s,
  coalesce(sum(prompt_words) FILTER (WHERE sent_ns IS NOT NULL), 0) / nullif((max(coalesce(done_ns, last_token_ns, sent_ns)) - min(sent_ns)) / 1e9, 0) AS tokens_per_s_generated,
  coalesce(sum(output_tokens) FILTER (WHERE status = 'ok'), 0) / nullif((max(coalesce(done_ns, last_token_ns, sent_ns)) - min(sent_ns)) / 1e9, 0) AS tokens_per_s_received,
  count(*) FILTER (WHERE json_extract_string(extra, '$.concurrency_source') = 'fallback') AS metrics_failures,
  count(*) FILTER (WHERE http_status = 400) AS http_400
FROM requests
GROUP BY ALL
ORDER BY run, shard, endpoint, dataset
