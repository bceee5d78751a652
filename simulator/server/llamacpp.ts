// llama.cpp's native server API: POST /completion (SSE partial chunks, a final `"stop": true`
// chunk with `timings`, no [DONE]), GET /slots, and its error bodies. Slots are the
// replica's sequence limit (max_num_seqs plays llama.cpp's -np).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FinishReason } from '../types.ts';
import { GenerationSink, type GenRequest, type StreamFaults, type TokenGroup } from './generation.ts';
import { HttpError, llamaError, readBody, startSse, writeSse, sendJson } from './http.ts';
import type { SimInstance } from './instance.ts';
import { countPromptTokens, OutputText } from './text.ts';

interface SlotState {
  gen: GenRequest;
  sink: LlamaSink;
}

const slotTables = new WeakMap<SimInstance, (SlotState | undefined)[]>();

function slots(inst: SimInstance): (SlotState | undefined)[] {
  let t = slotTables.get(inst);
  if (!t) {
    t = new Array(inst.config.maxNumSeqs * inst.replicas).fill(undefined);
    slotTables.set(inst, t);
  }
  return t;
}

/** llama.cpp answers a body it cannot parse with 500 (a json exception reaches its handler). */
function parseBody(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(500, `[json.exception.parse_error.101] parse error: ${(err as Error).message}`, 'server_error');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error');
  return v as Record<string, unknown>;
}

function num(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `"${name}" must be a number`, 'invalid_request_error');
  return Math.trunc(v);
}

export async function handleCompletion(inst: SimInstance, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseBody(await readBody(req));
  const p = body.prompt;
  let prompt: string;
  let promptTokens: number;
  if (typeof p === 'string') {
    prompt = p;
    promptTokens = countPromptTokens(p);
  } else if (Array.isArray(p) && p.every((x) => typeof x === 'number')) {
    prompt = `\u0000ids:${p.join(',')}`;
    promptTokens = p.length;
  } else {
    throw new HttpError(400, '"prompt" must be a string or an array of tokens', 'invalid_request_error');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new HttpError(400, '"stream" must be a boolean', 'invalid_request_error');
  const stream = body.stream === true;
  // n_predict ?? max_completion_tokens ?? max_tokens, default -1: until the context is full.
  const nPredict = num(body, 'n_predict') ?? num(body, 'max_completion_tokens') ?? num(body, 'max_tokens') ?? -1;
  const nCtx = inst.config.maxModelLen;
  if (promptTokens >= nCtx) {
    throw new HttpError(400, 'the request exceeds the available context size, try increasing it', 'exceed_context_size_error');
  }
  const room = nCtx - promptTokens;
  const maxTokens = nPredict < 0 ? room : Math.max(1, Math.min(nPredict, room));
  const ignoreEos = body.ignore_eos === true;
  const faults = inst.admitFaults(stream, maxTokens);
  const text = new OutputText(prompt, inst.config.seed);
  const natural = ignoreEos ? maxTokens : text.naturalLength(maxTokens, inst.config.eosRate);
  const gen: GenRequest = {
    id: inst.nextId(),
    replica: inst.route(promptTokens, maxTokens),
    model: inst.config.servedModelName,
    adapter: null,
    prompt,
    promptTokens,
    maxTokens,
    minTokens: 0,
    ignoreEos,
    naturalTokens: natural,
    text,
    stream,
    arrival: 0,
  };
  const table = slots(inst);
  const base = gen.replica * inst.config.maxNumSeqs;
  let slot = table.findIndex((s, i) => s === undefined && i >= base && i < base + inst.config.maxNumSeqs);
  if (slot < 0) slot = base; // more requests than slots: they queue in the engine; report slot 0
  const sink = new LlamaSink(gen, res, inst, faults, slot - base, nPredict, body);
  if (table[slot] === undefined) table[slot] = { gen, sink };
  sink.releaseSlot = () => {
    if (table[slot]?.gen === gen) table[slot] = undefined;
  };
  res.on('close', () => sink.releaseSlot());
  if (stream) startSse(res);
  inst.admit(gen, sink);
}

class LlamaSink extends GenerationSink {
  releaseSlot: () => void = () => {};
  private content = '';

  constructor(
    gen: GenRequest,
    res: ServerResponse,
    private readonly inst: SimInstance,
    faults: StreamFaults,
    readonly slot: number,
    private readonly nPredict: number,
    private readonly body: Record<string, unknown>,
  ) {
    super(gen, res, inst, faults);
  }

  protected writeTokens(groups: TokenGroup[], finish: { reason: FinishReason; t: number } | undefined): number {
    const g = this.gen;
    let n = 0;
    let out = '';
    for (const grp of groups) {
      n += grp.n;
      const piece = g.text.text(grp.from, grp.from + grp.n);
      if (g.stream) {
        out += `data: {"index":0,"content":${JSON.stringify(piece)},"tokens":[${g.text.ids(grp.from, grp.from + grp.n).join(',')}],"stop":false,"id_slot":${this.slot},"tokens_predicted":${this.emitted + n},"tokens_evaluated":${g.promptTokens}}\n\n`;
      } else this.content += piece;
    }
    if (finish && !g.stream) {
      sendJson(this.res, 200, this.finalJson(finish, this.emitted + n));
      this.releaseSlot();
      return n;
    }
    if (out) writeSse(this.res, out);
    return n;
  }

  protected writeClosing(finish: { reason: FinishReason; t: number }): void {
    this.releaseSlot();
    // The final stop event and the reply's end go out in one socket write.
    writeSse(this.res, `data: ${JSON.stringify(this.finalJson(finish, this.emitted))}\n\n`, true);
  }

  private finalJson(finish: { reason: FinishReason; t: number }, predicted: number): Record<string, unknown> {
    const g = this.gen;
    const start = this.scheduledT ?? g.arrival;
    const first = this.firstT ?? finish.t;
    const promptMs = Math.max(0, (first - start) * 1000);
    const predictedMs = Math.max(0, (finish.t - first) * 1000);
    this.inst.metrics.promptSeconds += promptMs / 1000;
    this.inst.metrics.predictedSeconds += predictedMs / 1000;
    const stopType = finish.reason === 'stop' ? 'eos' : 'limit';
    return {
      index: 0,
      content: g.stream ? '' : this.content,
      tokens: [],
      id_slot: this.slot,
      stop: true,
      model: g.model,
      tokens_predicted: predicted,
      tokens_evaluated: g.promptTokens,
      generation_settings: {
        n_predict: this.nPredict,
        seed: this.body.seed ?? 4294967295,
        temperature: this.body.temperature ?? 0.8,
        ignore_eos: g.ignoreEos,
        stream: g.stream,
        n_ctx: this.inst.config.maxModelLen,
      },
      prompt: g.prompt.startsWith('\u0000ids:') ? '' : g.prompt,
      has_new_line: false,
      truncated: false,
      stop_type: stopType,
      stopping_word: '',
      tokens_cached: g.promptTokens + predicted,
      timings: {
        cache_n: 0,
        prompt_n: g.promptTokens,
        prompt_ms: round3(promptMs),
        prompt_per_token_ms: round3(promptMs / Math.max(1, g.promptTokens)),
        prompt_per_second: promptMs > 0 ? round3((g.promptTokens * 1000) / promptMs) : 0,
        predicted_n: predicted,
        predicted_ms: round3(predictedMs),
        predicted_per_token_ms: round3(predictedMs / Math.max(1, predicted)),
        predicted_per_second: predictedMs > 0 ? round3((predicted * 1000) / predictedMs) : 0,
      },
    };
  }

  protected writeStreamError(): void {
    const err = llamaError(500, 'Injected fault: the server failed mid-stream', 'server_error');
    this.releaseSlot();
    if (!this.gen.stream) sendJson(this.res, 500, err);
    else writeSse(this.res, `error: ${JSON.stringify(err)}\n\n`);
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** GET /slots: one object per slot of every replica. */
export function listSlots(inst: SimInstance): unknown[] {
  const table = slots(inst);
  const out: unknown[] = [];
  for (let i = 0; i < table.length; i++) {
    const s = table[i];
    const busy = !!s && !s.sink.done;
    const decoded = s ? s.sink.emitted : 0;
    out.push({
      id: i % inst.config.maxNumSeqs,
      id_task: busy ? i : -1,
      n_ctx: inst.config.maxModelLen,
      speculative: false,
      is_processing: busy,
      params: { n_predict: s ? s.gen.maxTokens : -1, stream: s ? s.gen.stream : false },
      next_token: { has_next_token: busy, has_new_line: false, n_remain: s ? Math.max(0, s.gen.maxTokens - decoded) : -1, n_decoded: decoded },
    });
  }
  return out;
}

export function llamaHealth(inst: SimInstance, res: ServerResponse): void {
  if (inst.loading()) sendJson(res, 503, llamaError(503, 'Loading model', 'unavailable_error'));
  else sendJson(res, 200, { status: 'ok' });
}
