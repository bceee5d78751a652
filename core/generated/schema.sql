-- Generated from core/schema.ts by `npm run gen:schema`. Do not edit.

-- requests: one line per finished request (real or simulated) (raw: raw/requests*.jsonl)
CREATE TABLE requests (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  request_id VARCHAR NOT NULL,
  endpoint VARCHAR NOT NULL,
  protocol VARCHAR NOT NULL,
  url VARCHAR,
  model VARCHAR,
  adapter VARCHAR,
  adapter_resident BOOLEAN,
  gpu INTEGER,
  phase VARCHAR NOT NULL,
  dataset VARCHAR,
  prompt_hash VARCHAR,
  prompt_words INTEGER,
  prompt_tokens_client INTEGER,
  prompt_tokens_server INTEGER,
  output_tokens_requested INTEGER,
  output_tokens_server INTEGER,
  output_tokens_client INTEGER,
  output_tokens INTEGER,
  token_mismatch BOOLEAN,
  chunks INTEGER,
  scheduled_ns BIGINT,
  sent_ns BIGINT,
  first_byte_ns BIGINT,
  first_chunk_ns BIGINT,
  first_token_ns BIGINT,
  last_token_ns BIGINT,
  done_ns BIGINT,
  sent_unix_ms DOUBLE,
  server_ttft_s DOUBLE,
  server_latency_s DOUBLE,
  server_timings JSON,
  finish_reason VARCHAR,
  status VARCHAR NOT NULL,
  http_status INTEGER,
  error VARCHAR,
  weight DOUBLE,
  priority INTEGER,
  preemptions INTEGER,
  extra JSON,
  CHECK (protocol IN ('openai-completions', 'openai-chat', 'llamacpp', 'generate', 'sim')),
  CHECK (phase IN ('warmup', 'main', 'probe')),
  CHECK (status IN ('ok', 'http_error', 'timeout', 'connection_error', 'stream_error', 'cancelled'))
);
COMMENT ON TABLE requests IS 'one line per finished request (real or simulated)';
COMMENT ON COLUMN requests.run IS 'run id (the run folder name)';
COMMENT ON COLUMN requests.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN requests.request_id IS 'unique within the run';
COMMENT ON COLUMN requests.endpoint IS 'endpoint name (the config name, or the URL path)';
COMMENT ON COLUMN requests.protocol IS 'wire protocol';
COMMENT ON COLUMN requests.url IS 'URL the request was sent to';
COMMENT ON COLUMN requests.model IS 'served model name asked for';
COMMENT ON COLUMN requests.adapter IS 'LoRA adapter name or id';
COMMENT ON COLUMN requests.adapter_resident IS 'the LoRA adapter was in GPU memory when the request was scheduled (server-reported; NULL when the server does not say)';
COMMENT ON COLUMN requests.gpu IS 'GPU or replica the request went to (assigned or reported)';
COMMENT ON COLUMN requests.phase IS 'experiment phase';
COMMENT ON COLUMN requests.dataset IS 'dataset name or file';
COMMENT ON COLUMN requests.prompt_hash IS 'hash of the prompt text (first 16 hex of sha256)';
COMMENT ON COLUMN requests.prompt_words IS 'words in the prompt';
COMMENT ON COLUMN requests.prompt_tokens_client IS 'prompt tokens by the client tokenizer';
COMMENT ON COLUMN requests.prompt_tokens_server IS 'prompt tokens from server usage';
COMMENT ON COLUMN requests.output_tokens_requested IS 'max_tokens / n_predict asked for';
COMMENT ON COLUMN requests.output_tokens_server IS 'completion tokens from server usage';
COMMENT ON COLUMN requests.output_tokens_client IS 'completion tokens by the client tokenizer';
COMMENT ON COLUMN requests.output_tokens IS 'output tokens used for metrics: server usage when present, else client';
COMMENT ON COLUMN requests.token_mismatch IS 'client and server output token counts disagree';
COMMENT ON COLUMN requests.chunks IS 'content chunks received';
COMMENT ON COLUMN requests.scheduled_ns IS 'when the load schedule said to send';
COMMENT ON COLUMN requests.sent_ns IS 'just before the request was written';
COMMENT ON COLUMN requests.first_byte_ns IS 'first response byte';
COMMENT ON COLUMN requests.first_chunk_ns IS 'first SSE event with non-empty choices (vLLM bench counts TTFT here, role chunk included)';
COMMENT ON COLUMN requests.first_token_ns IS 'first non-empty content token';
COMMENT ON COLUMN requests.last_token_ns IS 'last content token';
COMMENT ON COLUMN requests.done_ns IS 'response complete ([DONE], stop:true, or end of body)';
COMMENT ON COLUMN requests.sent_unix_ms IS 'wall clock at send, for aligning with server logs only';
COMMENT ON COLUMN requests.server_ttft_s IS 'server-reported TTFT (the /generate protocol ttft)';
COMMENT ON COLUMN requests.server_latency_s IS 'server-reported completion time';
COMMENT ON COLUMN requests.server_timings IS 'server timings object (llama.cpp timings)';
COMMENT ON COLUMN requests.finish_reason IS 'finish_reason / stop_type';
COMMENT ON COLUMN requests.status IS 'outcome';
COMMENT ON COLUMN requests.http_status IS 'HTTP status code';
COMMENT ON COLUMN requests.error IS 'error text';
COMMENT ON COLUMN requests.weight IS 'scheduling weight (simulator tasks)';
COMMENT ON COLUMN requests.priority IS 'scheduling priority';
COMMENT ON COLUMN requests.preemptions IS 'times preempted (simulator)';
COMMENT ON COLUMN requests.extra IS 'input fields not in the contract, kept verbatim';

-- chunks: per-chunk arrival times of streamed responses (raw: raw/chunks*.jsonl)
CREATE TABLE chunks (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  request_id VARCHAR NOT NULL,
  idx INTEGER NOT NULL,
  t_ns BIGINT NOT NULL,
  tokens INTEGER,
  extra JSON
);
COMMENT ON TABLE chunks IS 'per-chunk arrival times of streamed responses';
COMMENT ON COLUMN chunks.run IS 'run id (the run folder name)';
COMMENT ON COLUMN chunks.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN chunks.request_id IS 'request this chunk belongs to';
COMMENT ON COLUMN chunks.idx IS 'chunk index within the request, from 0';
COMMENT ON COLUMN chunks.t_ns IS 'arrival, monotonic ns since run start';
COMMENT ON COLUMN chunks.tokens IS 'tokens in the chunk (when known)';
COMMENT ON COLUMN chunks.extra IS 'input fields not in the contract, kept verbatim';

-- gate_loads: MoE routing: tokens per (engine step, layer, expert) (raw: raw/gates/*.jsonl)
CREATE TABLE gate_loads (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  source VARCHAR NOT NULL,
  step BIGINT NOT NULL,
  layer INTEGER NOT NULL,
  expert INTEGER NOT NULL,
  tokens BIGINT NOT NULL,
  step_tokens BIGINT NOT NULL,
  t_ns BIGINT,
  extra JSON
);
COMMENT ON TABLE gate_loads IS 'MoE routing: tokens per (engine step, layer, expert)';
COMMENT ON COLUMN gate_loads.run IS 'run id (the run folder name)';
COMMENT ON COLUMN gate_loads.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN gate_loads.source IS 'where the counts came from (EP rank, gate-log file, backend)';
COMMENT ON COLUMN gate_loads.step IS 'engine step (forward pass) number';
COMMENT ON COLUMN gate_loads.layer IS 'MoE layer index';
COMMENT ON COLUMN gate_loads.expert IS 'expert index';
COMMENT ON COLUMN gate_loads.tokens IS 'tokens routed to this expert in this step and layer';
COMMENT ON COLUMN gate_loads.step_tokens IS 'tokens in the step (the >1000 warm-up filter uses it)';
COMMENT ON COLUMN gate_loads.t_ns IS 'time of the step on its server''s clock (ns since that server started; compare steps of one source, not with requests)';
COMMENT ON COLUMN gate_loads.extra IS 'input fields not in the contract, kept verbatim';

-- scrapes: /metrics samples taken during a run (raw: raw/scrapes*.jsonl)
CREATE TABLE scrapes (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  t_ns BIGINT NOT NULL,
  target VARCHAR NOT NULL,
  metric VARCHAR NOT NULL,
  labels JSON,
  value DOUBLE NOT NULL,
  extra JSON
);
COMMENT ON TABLE scrapes IS '/metrics samples taken during a run';
COMMENT ON COLUMN scrapes.run IS 'run id (the run folder name)';
COMMENT ON COLUMN scrapes.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN scrapes.t_ns IS 'scrape time, monotonic ns since run start';
COMMENT ON COLUMN scrapes.target IS 'scraped URL or endpoint name';
COMMENT ON COLUMN scrapes.metric IS 'metric name as exposed (e.g. vllm:num_requests_running)';
COMMENT ON COLUMN scrapes.labels IS 'label set';
COMMENT ON COLUMN scrapes.value IS 'sample value';
COMMENT ON COLUMN scrapes.extra IS 'input fields not in the contract, kept verbatim';

-- sim_intervals: simulator: which GPUs did what, when (simulated clock) (raw: raw/sim_intervals*.jsonl)
CREATE TABLE sim_intervals (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  resource VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  request_id VARCHAR,
  start_ns BIGINT NOT NULL,
  end_ns BIGINT NOT NULL,
  extra JSON
);
COMMENT ON TABLE sim_intervals IS 'simulator: which GPUs did what, when (simulated clock)';
COMMENT ON COLUMN sim_intervals.run IS 'run id (the run folder name)';
COMMENT ON COLUMN sim_intervals.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN sim_intervals.resource IS 'GPU group or replica, e.g. gpu0-1 or replica2';
COMMENT ON COLUMN sim_intervals.kind IS 'what it did: task, prefill, decode, swap, idle';
COMMENT ON COLUMN sim_intervals.request_id IS 'request or task served';
COMMENT ON COLUMN sim_intervals.start_ns IS 'simulated ns';
COMMENT ON COLUMN sim_intervals.end_ns IS 'simulated ns';
COMMENT ON COLUMN sim_intervals.extra IS 'input fields not in the contract, kept verbatim';

-- sim_steps: simulator: one line per engine iteration (or per closed-form decode stretch) (raw: raw/sim_steps*.jsonl)
CREATE TABLE sim_steps (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  replica INTEGER NOT NULL,
  step BIGINT NOT NULL,
  steps INTEGER NOT NULL,
  start_ns BIGINT NOT NULL,
  end_ns BIGINT NOT NULL,
  batch_size INTEGER NOT NULL,
  prefill_tokens INTEGER NOT NULL,
  decode_tokens INTEGER NOT NULL,
  waiting INTEGER,
  kv_usage DOUBLE,
  preempted INTEGER,
  bottleneck VARCHAR,
  extra JSON
);
COMMENT ON TABLE sim_steps IS 'simulator: one line per engine iteration (or per closed-form decode stretch)';
COMMENT ON COLUMN sim_steps.run IS 'run id (the run folder name)';
COMMENT ON COLUMN sim_steps.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN sim_steps.replica IS 'replica index';
COMMENT ON COLUMN sim_steps.step IS 'first iteration number of this line';
COMMENT ON COLUMN sim_steps.steps IS 'iterations this line covers (>1 for a closed-form decode stretch)';
COMMENT ON COLUMN sim_steps.start_ns IS 'simulated ns';
COMMENT ON COLUMN sim_steps.end_ns IS 'simulated ns';
COMMENT ON COLUMN sim_steps.batch_size IS 'sequences in the batch';
COMMENT ON COLUMN sim_steps.prefill_tokens IS 'prefill tokens in the step';
COMMENT ON COLUMN sim_steps.decode_tokens IS 'decode tokens in the step';
COMMENT ON COLUMN sim_steps.waiting IS 'requests waiting after the step';
COMMENT ON COLUMN sim_steps.kv_usage IS 'KV-cache blocks in use, fraction 0–1';
COMMENT ON COLUMN sim_steps.preempted IS 'requests preempted in the step';
COMMENT ON COLUMN sim_steps.bottleneck IS 'dominant cost: compute, memory, tp_comm, ep_comm, overhead';
COMMENT ON COLUMN sim_steps.extra IS 'input fields not in the contract, kept verbatim';

-- predicted_requests: serving-model prediction of the measured requests (servelab sim predict): same columns as requests, on the run clock (raw: raw/predicted/requests*.jsonl)
CREATE TABLE predicted_requests (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  request_id VARCHAR NOT NULL,
  endpoint VARCHAR NOT NULL,
  protocol VARCHAR NOT NULL,
  url VARCHAR,
  model VARCHAR,
  adapter VARCHAR,
  adapter_resident BOOLEAN,
  gpu INTEGER,
  phase VARCHAR NOT NULL,
  dataset VARCHAR,
  prompt_hash VARCHAR,
  prompt_words INTEGER,
  prompt_tokens_client INTEGER,
  prompt_tokens_server INTEGER,
  output_tokens_requested INTEGER,
  output_tokens_server INTEGER,
  output_tokens_client INTEGER,
  output_tokens INTEGER,
  token_mismatch BOOLEAN,
  chunks INTEGER,
  scheduled_ns BIGINT,
  sent_ns BIGINT,
  first_byte_ns BIGINT,
  first_chunk_ns BIGINT,
  first_token_ns BIGINT,
  last_token_ns BIGINT,
  done_ns BIGINT,
  sent_unix_ms DOUBLE,
  server_ttft_s DOUBLE,
  server_latency_s DOUBLE,
  server_timings JSON,
  finish_reason VARCHAR,
  status VARCHAR NOT NULL,
  http_status INTEGER,
  error VARCHAR,
  weight DOUBLE,
  priority INTEGER,
  preemptions INTEGER,
  extra JSON,
  CHECK (protocol IN ('openai-completions', 'openai-chat', 'llamacpp', 'generate', 'sim')),
  CHECK (phase IN ('warmup', 'main', 'probe')),
  CHECK (status IN ('ok', 'http_error', 'timeout', 'connection_error', 'stream_error', 'cancelled'))
);
COMMENT ON TABLE predicted_requests IS 'serving-model prediction of the measured requests (servelab sim predict): same columns as requests, on the run clock';
COMMENT ON COLUMN predicted_requests.run IS 'run id (the run folder name)';
COMMENT ON COLUMN predicted_requests.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN predicted_requests.request_id IS 'unique within the run';
COMMENT ON COLUMN predicted_requests.endpoint IS 'endpoint name (the config name, or the URL path)';
COMMENT ON COLUMN predicted_requests.protocol IS 'wire protocol';
COMMENT ON COLUMN predicted_requests.url IS 'URL the request was sent to';
COMMENT ON COLUMN predicted_requests.model IS 'served model name asked for';
COMMENT ON COLUMN predicted_requests.adapter IS 'LoRA adapter name or id';
COMMENT ON COLUMN predicted_requests.adapter_resident IS 'the LoRA adapter was in GPU memory when the request was scheduled (server-reported; NULL when the server does not say)';
COMMENT ON COLUMN predicted_requests.gpu IS 'GPU or replica the request went to (assigned or reported)';
COMMENT ON COLUMN predicted_requests.phase IS 'experiment phase';
COMMENT ON COLUMN predicted_requests.dataset IS 'dataset name or file';
COMMENT ON COLUMN predicted_requests.prompt_hash IS 'hash of the prompt text (first 16 hex of sha256)';
COMMENT ON COLUMN predicted_requests.prompt_words IS 'words in the prompt';
COMMENT ON COLUMN predicted_requests.prompt_tokens_client IS 'prompt tokens by the client tokenizer';
COMMENT ON COLUMN predicted_requests.prompt_tokens_server IS 'prompt tokens from server usage';
COMMENT ON COLUMN predicted_requests.output_tokens_requested IS 'max_tokens / n_predict asked for';
COMMENT ON COLUMN predicted_requests.output_tokens_server IS 'completion tokens from server usage';
COMMENT ON COLUMN predicted_requests.output_tokens_client IS 'completion tokens by the client tokenizer';
COMMENT ON COLUMN predicted_requests.output_tokens IS 'output tokens used for metrics: server usage when present, else client';
COMMENT ON COLUMN predicted_requests.token_mismatch IS 'client and server output token counts disagree';
COMMENT ON COLUMN predicted_requests.chunks IS 'content chunks received';
COMMENT ON COLUMN predicted_requests.scheduled_ns IS 'when the load schedule said to send';
COMMENT ON COLUMN predicted_requests.sent_ns IS 'just before the request was written';
COMMENT ON COLUMN predicted_requests.first_byte_ns IS 'first response byte';
COMMENT ON COLUMN predicted_requests.first_chunk_ns IS 'first SSE event with non-empty choices (vLLM bench counts TTFT here, role chunk included)';
COMMENT ON COLUMN predicted_requests.first_token_ns IS 'first non-empty content token';
COMMENT ON COLUMN predicted_requests.last_token_ns IS 'last content token';
COMMENT ON COLUMN predicted_requests.done_ns IS 'response complete ([DONE], stop:true, or end of body)';
COMMENT ON COLUMN predicted_requests.sent_unix_ms IS 'wall clock at send, for aligning with server logs only';
COMMENT ON COLUMN predicted_requests.server_ttft_s IS 'server-reported TTFT (the /generate protocol ttft)';
COMMENT ON COLUMN predicted_requests.server_latency_s IS 'server-reported completion time';
COMMENT ON COLUMN predicted_requests.server_timings IS 'server timings object (llama.cpp timings)';
COMMENT ON COLUMN predicted_requests.finish_reason IS 'finish_reason / stop_type';
COMMENT ON COLUMN predicted_requests.status IS 'outcome';
COMMENT ON COLUMN predicted_requests.http_status IS 'HTTP status code';
COMMENT ON COLUMN predicted_requests.error IS 'error text';
COMMENT ON COLUMN predicted_requests.weight IS 'scheduling weight (simulator tasks)';
COMMENT ON COLUMN predicted_requests.priority IS 'scheduling priority';
COMMENT ON COLUMN predicted_requests.preemptions IS 'times preempted (simulator)';
COMMENT ON COLUMN predicted_requests.extra IS 'input fields not in the contract, kept verbatim';

-- predicted_gate_loads: serving-model prediction of MoE gate loads (servelab sim predict): same columns as gate_loads, source <endpoint>/<dataset>/replica<r> (raw: raw/predicted/gates/*.jsonl)
CREATE TABLE predicted_gate_loads (
  run VARCHAR NOT NULL,
  shard INTEGER NOT NULL,
  source VARCHAR NOT NULL,
  step BIGINT NOT NULL,
  layer INTEGER NOT NULL,
  expert INTEGER NOT NULL,
  tokens BIGINT NOT NULL,
  step_tokens BIGINT NOT NULL,
  t_ns BIGINT,
  extra JSON
);
COMMENT ON TABLE predicted_gate_loads IS 'serving-model prediction of MoE gate loads (servelab sim predict): same columns as gate_loads, source <endpoint>/<dataset>/replica<r>';
COMMENT ON COLUMN predicted_gate_loads.run IS 'run id (the run folder name)';
COMMENT ON COLUMN predicted_gate_loads.shard IS 'collector shard id; several processes or hosts may load one run';
COMMENT ON COLUMN predicted_gate_loads.source IS 'where the counts came from (EP rank, gate-log file, backend)';
COMMENT ON COLUMN predicted_gate_loads.step IS 'engine step (forward pass) number';
COMMENT ON COLUMN predicted_gate_loads.layer IS 'MoE layer index';
COMMENT ON COLUMN predicted_gate_loads.expert IS 'expert index';
COMMENT ON COLUMN predicted_gate_loads.tokens IS 'tokens routed to this expert in this step and layer';
COMMENT ON COLUMN predicted_gate_loads.step_tokens IS 'tokens in the step (the >1000 warm-up filter uses it)';
COMMENT ON COLUMN predicted_gate_loads.t_ns IS 'time of the step on its server''s clock (ns since that server started; compare steps of one source, not with requests)';
COMMENT ON COLUMN predicted_gate_loads.extra IS 'input fields not in the contract, kept verbatim';

-- runs: the run manifest (manifest.json), one row per run (raw: manifest.json)
CREATE TABLE runs (
  run VARCHAR NOT NULL,
  experiment VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  started_unix_ms DOUBLE NOT NULL,
  finished_unix_ms DOUBLE,
  tool_version VARCHAR NOT NULL,
  git_commit VARCHAR,
  host VARCHAR NOT NULL,
  command VARCHAR,
  config JSON,
  servers JSON,
  counts JSON,
  error VARCHAR,
  extra JSON,
  CHECK (status IN ('running', 'complete', 'incomplete', 'failed'))
);
COMMENT ON TABLE runs IS 'the run manifest (manifest.json), one row per run';
COMMENT ON COLUMN runs.run IS 'run id (the run folder name)';
COMMENT ON COLUMN runs.experiment IS 'experiment name (the parent folder)';
COMMENT ON COLUMN runs.status IS 'run state';
COMMENT ON COLUMN runs.started_unix_ms IS 'wall clock at start';
COMMENT ON COLUMN runs.finished_unix_ms IS 'wall clock at finish';
COMMENT ON COLUMN runs.tool_version IS 'servelab version';
COMMENT ON COLUMN runs.git_commit IS 'commit of the servelab checkout';
COMMENT ON COLUMN runs.host IS 'host name';
COMMENT ON COLUMN runs.command IS 'command line that made the run';
COMMENT ON COLUMN runs.config IS 'all flags and settings';
COMMENT ON COLUMN runs.servers IS 'servers used and their launch commands';
COMMENT ON COLUMN runs.counts IS 'records per table, torn/skipped lines';
COMMENT ON COLUMN runs.error IS 'why the run failed or stopped';
COMMENT ON COLUMN runs.extra IS 'input fields not in the contract, kept verbatim';
