-- request_itl: the inter-token latencies of each request that logged chunks, the one place they are computed.
-- inputs: chunks
-- grain: run × request (requests with at least one chunk; join request_metrics on run, request_id for status, endpoint,
--   phase: request ids are unique within a run, the load engine's carry their shard)
-- formulas: ITL = t_ns[k+1] - t_ns[k], the gaps between successive chunks in idx order (vLLM "ITL", AIPerf "ICL");
--   itl_ns lists them in order (empty for a single chunk); chunks = the request's chunk count.
-- units: itl_ns integer nanoseconds (divide by 1e6 for ms).
WITH chunk_times AS (
  -- per request, the chunk indexes and times as two lists filled in step (one aggregate, so their
  -- orders agree); in idx order already when the indexes read 0, 1, 2, … (chunks are appended in
  -- order), else sorted by (idx, t_ns)
  SELECT run, request_id, list(idx) AS i, list(t_ns) AS t FROM chunks GROUP BY run, request_id
),
ordered AS (
  SELECT run, request_id,
    CASE WHEN i = range(len(i))::INTEGER[] THEN t ELSE list_transform(list_sort(list_zip(i, t)), x -> x[2]) END AS t
  FROM chunk_times
)
SELECT run, request_id, len(t)::BIGINT AS chunks,
  list_transform(list_slice(t, 2, len(t)), (x, k) -> x - t[k]) AS itl_ns
FROM ordered
