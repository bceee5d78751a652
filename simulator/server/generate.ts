// The LoRA `/generate` protocol of researchers' single-engine server: POST /generate
// {"prompt","model_id","max_tokens"} → {"text":[prompt+completion],"model_id","ttft",
// "completion_time"}, GET /health with the configuration, GET /swap_stats, POST /reset_swap_stats.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FinishReason } from '../types.ts';
import { GenerationSink, type GenRequest, type StreamFaults, type TokenGroup } from './generation.ts';
import { HttpError, readBody, sendJson } from './http.ts';
import type { SimInstance } from './instance.ts';
import { fitContext } from './openai.ts';
import { countPromptTokens, OutputText } from './text.ts';

/** FastAPI's error shape, which the original server (FastAPI) answers with. */
export function detail(status: number, message: string): HttpError {
  return new HttpError(status, message, 'detail');
}

export async function handleGenerateLora(inst: SimInstance, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await readBody(req);
  let body: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    body = v as Record<string, unknown>;
  } catch {
    throw detail(422, 'JSON decode error');
  }
  if (typeof body.prompt !== 'string') throw detail(422, 'prompt: Input should be a valid string');
  const total = inst.config.lora?.totalLoras ?? 0;
  const modelId = body.model_id;
  if (modelId !== undefined && modelId !== null && (typeof modelId !== 'number' || !Number.isInteger(modelId))) throw detail(422, 'model_id: Input should be a valid integer');
  if (typeof modelId === 'number' && (modelId < 0 || modelId >= total)) throw detail(400, `model_id ${modelId} out of range [0, ${total - 1}]`);
  const mt = body.max_tokens ?? 16;
  if (typeof mt !== 'number' || !Number.isInteger(mt) || mt < 1) throw detail(422, 'max_tokens: Input should be a valid integer ≥ 1');
  const promptTokens = countPromptTokens(body.prompt);
  const maxTokens = fitContext(inst, promptTokens, mt);
  const faults = inst.admitFaults(false, maxTokens);
  const out = new OutputText(body.prompt, inst.config.seed);
  const adapter = typeof modelId === 'number' ? `lora-${modelId}` : null;
  const gen: GenRequest = {
    id: inst.nextId(),
    replica: inst.route(promptTokens, maxTokens),
    model: adapter ?? inst.config.servedModelName,
    adapter,
    prompt: body.prompt,
    promptTokens,
    maxTokens,
    minTokens: 0,
    ignoreEos: true,
    naturalTokens: maxTokens,
    text: out,
    stream: false,
    arrival: 0,
  };
  inst.admit(gen, new GenerateSink(gen, res, inst, faults, modelId ?? null));
}

class GenerateSink extends GenerationSink {
  private completion = '';
  constructor(
    gen: GenRequest,
    res: ServerResponse,
    inst: SimInstance,
    faults: StreamFaults,
    private readonly modelId: unknown,
  ) {
    super(gen, res, inst, faults);
  }

  protected writeTokens(groups: TokenGroup[], finish: { reason: FinishReason; t: number } | undefined): number {
    let n = 0;
    for (const g of groups) {
      this.completion += this.gen.text.text(g.from, g.from + g.n);
      n += g.n;
    }
    if (finish) {
      const a = this.gen.arrival;
      sendJson(this.res, 200, {
        text: [this.gen.prompt + this.completion],
        model_id: this.modelId,
        ttft: (this.firstT ?? finish.t) - a,
        completion_time: finish.t - a,
        // beyond the original protocol: whether the adapter was in HBM when the request was scheduled
        lora_resident: this.gen.adapterResident ?? null,
      });
    }
    return n;
  }

  /** /generate replies are one JSON body: nothing streams, so nothing closes later. */
  protected writeClosing(): void {}

  protected writeStreamError(): void {
    sendJson(this.res, 500, { detail: 'Injected fault: internal server error' });
  }
}

export function generateHealth(inst: SimInstance): unknown {
  const c = inst.config;
  return {
    status: inst.loading() ? 'loading' : 'ok',
    model: c.servedModelName,
    total_loras: c.lora?.totalLoras ?? 0,
    gpu_loras: c.lora?.gpuLoras ?? 0,
    max_loras: c.lora?.maxLoras ?? 0,
    max_num_seqs: c.maxNumSeqs,
    gpus: c.gpus,
  };
}

export function swapStats(inst: SimInstance): unknown {
  // `resident`: the adapters in HBM now, per replica (beyond the original protocol)
  return { init: { ...inst.swapInit }, runtime: { ...inst.swapRuntime }, resident: inst.residentAdapters() };
}

/** POST /reset_swap_stats: runtime counters only; init stays. */
export function resetSwapStats(inst: SimInstance): unknown {
  inst.swapRuntime = { swap_calls: 0, swap_count: 0 };
  return { status: 'ok', message: 'Runtime swap stats reset' };
}
