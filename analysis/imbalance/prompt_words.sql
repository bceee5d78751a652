-- imbalance_prompt_words: prompt size per GPU over time: the words each GPU was sent, by send time.
-- inputs: requests
-- depends: (none)
-- grain: run × shard × policy × mode × gpu × t_s bucket (bucket = max(0.5 s, sending span / 60))
-- formulas: t_s = bucket start since the load's first send; mean_words = mean prompt_words of the requests sent to the GPU in
--   the bucket (gpu = the server's report, else round-robin's); max_words their max; requests = their count.
-- units: t_s seconds; words.
WITH r AS (
  SELECT run, shard, endpoint AS policy, dataset AS mode, gpu, sent_ns, prompt_words
  FROM requests WHERE sent_ns IS NOT NULL AND gpu IS NOT NULL AND prompt_words IS NOT NULL
),
span AS (
  SELECT run, shard, policy, mode, min(sent_ns) AS t0, greatest(0.5, (max(sent_ns) - min(sent_ns)) / 1e9 / 60) AS bucket_s FROM r GROUP BY ALL
)
SELECT run, shard, policy, mode, gpu, floor((sent_ns - t0) / 1e9 / bucket_s) * bucket_s AS t_s,
  avg(prompt_words) AS mean_words, max(prompt_words) AS max_words, count(*) AS requests
FROM r JOIN span USING (run, shard, policy, mode)
GROUP BY ALL
ORDER BY run, shard, policy, mode, gpu, t_s
