// vLLM's OpenAI-compatible routes, byte for byte where clients look: /v1/completions and
// /v1/chat/completions (SSE frames, the role-only first chat chunk, usage chunks, [DONE],
// the mid-stream error), /v1/models with LoRA cards, and runtime LoRA load/unload.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FinishReason } from '../types.ts';
import { GenerationSink, type GenRequest, type StreamFaults, type TokenGroup } from './generation.ts';
import { HttpError, field, parseJsonObject, readBody, startSse, writeSse, sendJson, sendText, vllmError } from './http.ts';
import type { SimInstance } from './instance.ts';
import { getModel } from '../models.ts';
import { renderChat } from './chat-template.ts';
import { countPromptTokens, OutputText } from './text.ts';

type Kind = 'completion' | 'chat';

interface UsageOpts {
  include: boolean;
  continuous: boolean;
}

/** Which model a request names: the base (null adapter) or an adapter; 404 otherwise. */
export function resolveModel(inst: SimInstance, model: string | undefined): { name: string; adapter: string | null } {
  const base = inst.config.servedModelName;
  if (model === undefined || model === base) return { name: base, adapter: null };
  if (inst.adapters.has(model)) return { name: model, adapter: model };
  throw new HttpError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');
}

/** Prompt tokens checked against the context, and max_tokens clamped to what is left. */
export function fitContext(inst: SimInstance, promptTokens: number, requested: number | undefined): number {
  const maxLen = inst.config.maxModelLen;
  if (promptTokens >= maxLen) {
    throw new HttpError(
      400,
      `This model's maximum context length is ${maxLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`,
      'BadRequestError',
    );
  }
  const room = maxLen - promptTokens;
  return requested === undefined ? room : Math.min(requested, room);
}

function parsePrompt(body: Record<string, unknown>): string {
  const p = body.prompt;
  if (p === undefined || p === null) throw new HttpError(400, 'prompt: Field required', 'BadRequestError', 'prompt');
  if (typeof p === 'string') return p;
  if (Array.isArray(p)) {
    if (p.length === 0) throw new HttpError(400, 'prompt: the prompt cannot be empty', 'BadRequestError', 'prompt');
    if (p.every((x) => typeof x === 'number' && Number.isInteger(x))) return `\u0000ids:${p.join(',')}`;
    if (p.length === 1 && typeof p[0] === 'string') return p[0];
    throw new HttpError(400, 'prompt: one prompt (a string or a token-id list) per request is supported', 'BadRequestError', 'prompt');
  }
  throw new HttpError(400, `prompt: Input should be a valid string or list, got ${JSON.stringify(p)}`, 'BadRequestError', 'prompt');
}

function parseMessages(body: Record<string, unknown>): { role: string; content: string }[] {
  const m = body.messages;
  if (!Array.isArray(m) || m.length === 0) throw new HttpError(400, 'messages: Field required (a non-empty list)', 'BadRequestError', 'messages');
  return m.map((x, i) => {
    if (!x || typeof x !== 'object') throw new HttpError(400, `messages.${i}: Input should be an object`, 'BadRequestError', 'messages');
    const o = x as Record<string, unknown>;
    if (typeof o.role !== 'string') throw new HttpError(400, `messages.${i}.role: Field required`, 'BadRequestError', 'messages');
    let content = '';
    if (typeof o.content === 'string') content = o.content;
    else if (Array.isArray(o.content)) content = o.content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
    else if (o.content !== undefined && o.content !== null) throw new HttpError(400, `messages.${i}.content: Input should be a valid string or list`, 'BadRequestError', 'messages');
    return { role: o.role, content };
  });
}

function parseUsage(body: Record<string, unknown>, stream: boolean): UsageOpts {
  const so = field.optObj(body, 'stream_options');
  if (so && !stream) throw new HttpError(400, 'Stream options can only be defined when `stream=True`.', 'BadRequestError', 'stream_options');
  if (!so) return { include: false, continuous: false };
  // StreamOptions.include_usage defaults to true once the object is present.
  const include = field.optBool(so, 'include_usage') ?? true;
  const continuous = include && (field.optBool(so, 'continuous_usage_stats') ?? false);
  return { include, continuous };
}

export async function handleGenerate(inst: SimInstance, kind: Kind, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJsonObject(await readBody(req));
  const stream = field.optBool(body, 'stream') ?? false;
  const usage = parseUsage(body, stream);
  const { name, adapter } = resolveModel(inst, field.optStr(body, 'model'));
  // Sampling fields do not change the simulated text, but a wrong type is a 400 as on vLLM.
  for (const f of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty', 'repetition_penalty', 'min_p']) field.optNum(body, f);
  for (const f of ['top_k', 'seed']) field.optInt(body, f);
  const n = field.optInt(body, 'n', 1);
  if (n !== undefined && n > 1) throw new HttpError(400, 'n: only n=1 is supported by the simulated server', 'BadRequestError', 'n');
  let prompt: string;
  let promptTokens: number;
  if (kind === 'chat') {
    // vLLM counts the prompt after the model's chat template.
    const chat = renderChat(inst.config.model, parseMessages(body));
    prompt = chat.text;
    promptTokens = chat.tokens;
  } else {
    prompt = parsePrompt(body);
    promptTokens = prompt.startsWith('\u0000ids:') ? prompt.split(',').length : countPromptTokens(prompt);
  }
  const requested = kind === 'chat' ? (field.optInt(body, 'max_completion_tokens', 1) ?? field.optInt(body, 'max_tokens', 1)) : (field.optInt(body, 'max_tokens', 1) ?? 16);
  const minTokens = field.optInt(body, 'min_tokens', 0) ?? 0;
  const ignoreEos = field.optBool(body, 'ignore_eos') ?? false;
  const maxTokens = fitContext(inst, promptTokens, requested);
  if (minTokens > maxTokens) throw new HttpError(400, `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`, 'BadRequestError', 'min_tokens');
  const faults = inst.admitFaults(stream, maxTokens);
  const text = new OutputText(prompt, inst.config.seed);
  const natural = ignoreEos ? maxTokens : Math.max(minTokens, text.naturalLength(maxTokens, inst.config.eosRate));
  const gen: GenRequest = {
    id: inst.nextId(),
    replica: inst.route(promptTokens, maxTokens),
    model: name,
    adapter,
    prompt,
    promptTokens,
    maxTokens,
    minTokens,
    ignoreEos,
    naturalTokens: natural,
    text,
    stream,
    arrival: 0,
  };
  // The GPU the front picked (its replica's first), for clients that tally per-GPU load.
  res.setHeader('x-gpu-id', String(gen.replica * inst.config.tp * inst.config.ep));
  if (stream) startSse(res);
  inst.admit(gen, new OpenAISink(gen, res, inst, faults, kind, usage, inst.created));
}

/** Streams (or collects) one request's tokens in vLLM's frames. */
class OpenAISink extends GenerationSink {
  private readonly head: string;
  /** A plain token frame is tokenPre + JSON text + tokenPost: only the text changes per token. */
  private readonly tokenPre: string;
  private readonly tokenPost: string;
  private readonly id: string;
  private text = '';
  private roleSent = false;

  constructor(
    gen: GenRequest,
    res: ServerResponse,
    private readonly inst: SimInstance,
    faults: StreamFaults,
    private readonly kind: Kind,
    private readonly usage: UsageOpts,
    private readonly created: number,
  ) {
    super(gen, res, inst, faults);
    this.id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`;
    const object = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    this.head = `data: {"id":"${this.id}","object":"${object}","created":${created},"model":${JSON.stringify(gen.model)},"choices":`;
    const [pre, post] = this.frame('\u0000', null, 0).split('\u0000') as [string, string];
    this.tokenPre = kind === 'chat' ? `${pre}{"content":` : pre;
    this.tokenPost = kind === 'chat' ? `}${post}` : post;
  }

  private usageJson(completion: number): string {
    const p = this.gen.promptTokens;
    return `{"prompt_tokens":${p},"total_tokens":${p + completion},"completion_tokens":${completion}}`;
  }

  private frame(delta: string, finish: FinishReason | null, completion: number): string {
    const fin = finish ? `"${finish}","stop_reason":null` : 'null';
    const choice =
      this.kind === 'chat'
        ? `[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${fin}}]`
        : `[{"index":0,"text":${delta},"logprobs":null,"finish_reason":${finish ? fin : 'null,"stop_reason":null'}}]`;
    const u = this.usage.continuous ? `,"usage":${this.usageJson(completion)}` : '';
    return `${this.head}${choice}${u}}\n\n`;
  }

  protected writeTokens(groups: TokenGroup[], finish: { reason: FinishReason; t: number } | undefined): number {
    const g = this.gen;
    let n = 0;
    if (!g.stream) {
      for (const grp of groups) {
        this.text += g.text.text(grp.from, grp.from + grp.n);
        n += grp.n;
      }
      if (finish) this.writeWhole(finish.reason, this.emitted + n);
      return n;
    }
    let out = '';
    if (this.kind === 'chat' && !this.roleSent && (groups.length || finish)) {
      this.roleSent = true;
      out += this.frame('{"role":"assistant","content":""}', null, 0);
    }
    for (let i = 0; i < groups.length; i++) {
      const grp = groups[i]!;
      n += grp.n;
      const piece = JSON.stringify(g.text.text(grp.from, grp.from + grp.n));
      const last = finish && i === groups.length - 1;
      // The last text arrives in the same chunk as finish_reason.
      if (last || this.usage.continuous) out += this.frame(this.kind === 'chat' ? `{"content":${piece}}` : piece, last ? finish.reason : null, this.emitted + n);
      else out += this.tokenPre + piece + this.tokenPost;
    }
    if (finish && groups.length === 0) out += this.frame(this.kind === 'chat' ? '{"content":""}' : '""', finish.reason, this.emitted);
    if (out) writeSse(this.res, out);
    return n;
  }

  protected writeClosing(): void {
    let out = '';
    if (this.usage.include) out += `${this.head}[],"usage":${this.usageJson(this.emitted)}}\n\n`;
    out += 'data: [DONE]\n\n';
    // The closing frames and the reply's end go out in one socket write.
    writeSse(this.res, out, true);
  }

  private writeWhole(reason: FinishReason, completion: number): void {
    const p = this.gen.promptTokens;
    const usage = { prompt_tokens: p, total_tokens: p + completion, completion_tokens: completion, prompt_tokens_details: null };
    const routed = this.inst.routedExperts(this.gen, completion);
    const choice =
      this.kind === 'chat'
        ? { index: 0, message: { role: 'assistant', content: this.text, tool_calls: [] }, logprobs: null, finish_reason: reason, stop_reason: null }
        : { index: 0, text: this.text, logprobs: null, finish_reason: reason, stop_reason: null, prompt_logprobs: null };
    if (routed !== undefined) Object.assign(choice, { routed_experts: routed });
    sendJson(this.res, 200, {
      id: this.id,
      object: this.kind === 'chat' ? 'chat.completion' : 'text_completion',
      created: this.created,
      model: this.gen.model,
      choices: [choice],
      usage,
    });
  }

  protected writeStreamError(): void {
    const err = vllmError(500, 'Injected fault: the engine failed mid-stream', 'InternalServerError');
    if (!this.gen.stream) {
      sendJson(this.res, 500, err);
      return;
    }
    writeSse(this.res, `data: ${JSON.stringify(err)}\n\ndata: [DONE]\n\n`);
  }
}

/** GET /v1/models: the base model card and one card per adapter (id, root = path, parent). */
export function listModels(inst: SimInstance): unknown {
  const base = inst.config.servedModelName;
  const card = (id: string, root: string, parent: string | null, maxLen: number | null) => ({
    id,
    object: 'model',
    created: inst.created,
    owned_by: 'vllm',
    root,
    parent,
    max_model_len: maxLen,
    permission: [],
  });
  return {
    object: 'list',
    data: [card(base, getModel(inst.config.model).hfId ?? inst.config.model, null, inst.config.maxModelLen), ...[...inst.adapters.values()].map((a) => card(a.name, a.path, base, null))],
  };
}

/** POST /v1/load_lora_adapter and /v1/unload_lora_adapter: plain-text success, vLLM's errors. */
export async function handleLora(inst: SimInstance, op: 'load' | 'unload', req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJsonObject(await readBody(req));
  const name = field.optStr(body, 'lora_name');
  const path = field.optStr(body, 'lora_path');
  if (op === 'load') {
    if (!name || !path) throw new HttpError(400, "Both 'lora_name' and 'lora_path' must be provided.", 'BadRequestError');
    if (inst.adapters.has(name)) throw new HttpError(400, `The lora adapter '${name}' has already been loaded.`, 'BadRequestError');
    inst.adapters.set(name, { name, path, modelId: null });
    sendText(res, 200, `Success: LoRA adapter '${name}' added successfully.`);
    return;
  }
  if (!name) throw new HttpError(400, "'lora_name' needs to be provided to unload a LoRA adapter.", 'BadRequestError');
  if (!inst.adapters.has(name)) throw new HttpError(404, `The lora adapter '${name}' cannot be found.`, 'NotFoundError', 'lora_name');
  inst.adapters.delete(name);
  sendText(res, 200, `Success: LoRA adapter '${name}' removed successfully.`);
}
