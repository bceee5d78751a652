// Chat templates of the served model's instruct variant, as vLLM applies them before counting a
// chat request's prompt tokens: Llama-3 headers, Llama-2 and Mistral [INST], ChatML (Qwen) and
// DeepSeek-R1's markers, with each special token counted as one token and the text between
// them counted with the LLaMA tokenizer (the server's one tokenizer; see text.ts).
import { HttpError } from './http.ts';
import { countTextTokens } from '../../core/llama-tokens.ts';

export interface ChatMessage {
  role: string;
  content: string;
}

/** A rendered prompt: special tokens and text, in order. */
type Piece = { special: string } | { text: string };

export interface RenderedChat {
  /** The prompt as one string (special tokens written out), the text the model sees. */
  text: string;
  /** Prompt tokens: one per special token plus the text pieces' tokens. */
  tokens: number;
}

export const TEMPLATES = ['llama-3', 'llama-2', 'mistral', 'chatml', 'deepseek-r1', 'none'] as const;
export type TemplateKind = (typeof TEMPLATES)[number];

/** The chat template of a model preset's instruct variant (base checkpoints ship none; vLLM would 400). */
export function templateFor(model: string): TemplateKind {
  const m = model.toLowerCase();
  if (m.includes('deepseek-r1')) return 'deepseek-r1';
  if (m.includes('llama-3') || m.includes('llama3')) return 'llama-3';
  if (m.includes('llama-2') || m.includes('llama2')) return 'llama-2';
  if (m.includes('mixtral') || m.includes('mistral')) return 'mistral';
  if (m.includes('qwen')) return 'chatml';
  return 'none';
}

const ALTERNATE = 'Conversation roles must alternate user/assistant/user/assistant/...';

function alternating(messages: readonly ChatMessage[]): void {
  messages.forEach((m, i) => {
    if ((m.role === 'user') !== (i % 2 === 0)) throw new HttpError(400, ALTERNATE, 'BadRequestError');
  });
}

/** The pieces of each template, written after the templates' Jinja sources (generation prompt on). */
const RENDER: { [K in TemplateKind]: (messages: readonly ChatMessage[]) => Piece[] } = {
  'llama-3': (messages) => {
    const out: Piece[] = [{ special: '<|begin_of_text|>' }];
    for (const m of messages) {
      out.push({ special: '<|start_header_id|>' }, { text: m.role }, { special: '<|end_header_id|>' }, { text: `\n\n${m.content.trim()}` }, { special: '<|eot_id|>' });
    }
    out.push({ special: '<|start_header_id|>' }, { text: 'assistant' }, { special: '<|end_header_id|>' }, { text: '\n\n' });
    return out;
  },
  'llama-2': (messages) => {
    const system = messages[0]?.role === 'system' ? messages[0].content : null;
    const rest = system === null ? messages : messages.slice(1);
    alternating(rest);
    const out: Piece[] = [];
    rest.forEach((m, i) => {
      const content = i === 0 && system !== null ? `<<SYS>>\n${system}\n<</SYS>>\n\n${m.content}` : m.content;
      if (m.role === 'user') out.push({ special: '<s>' }, { text: `[INST] ${content.trim()} [/INST]` });
      else if (m.role === 'assistant') out.push({ text: ` ${content.trim()} ` }, { special: '</s>' });
    });
    return out;
  },
  mistral: (messages) => {
    alternating(messages);
    const out: Piece[] = [{ special: '<s>' }];
    for (const m of messages) {
      if (m.role === 'user') out.push({ text: `[INST] ${m.content} [/INST]` });
      else if (m.role === 'assistant') out.push({ text: m.content }, { special: '</s>' });
      else throw new HttpError(400, 'Only user and assistant roles are supported!', 'BadRequestError');
    }
    return out;
  },
  chatml: (messages) => {
    const out: Piece[] = [];
    for (const m of messages) out.push({ special: '<|im_start|>' }, { text: `${m.role}\n${m.content}` }, { special: '<|im_end|>' }, { text: '\n' });
    out.push({ special: '<|im_start|>' }, { text: 'assistant\n' });
    return out;
  },
  'deepseek-r1': (messages) => {
    const out: Piece[] = [{ special: '<｜begin▁of▁sentence｜>' }];
    const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
    if (system.length) out.push({ text: system.join('\n\n') });
    for (const m of messages) {
      if (m.role === 'user') out.push({ special: '<｜User｜>' }, { text: m.content });
      else if (m.role === 'assistant') out.push({ special: '<｜Assistant｜>' }, { text: m.content }, { special: '<｜end▁of▁sentence｜>' });
    }
    out.push({ special: '<｜Assistant｜>' }, { text: '<think>\n' });
    return out;
  },
  none: () => {
    // vLLM's answer for a tokenizer without a chat template and none given with --chat-template.
    throw new HttpError(
      400,
      'As of transformers v4.44, default chat template is no longer allowed, so you must provide a chat template if the tokenizer does not define one.',
      'BadRequestError',
    );
  },
};

/** Renders messages with the model's template; a template's own errors are vLLM's 400s. */
export function renderChat(model: string, messages: readonly ChatMessage[]): RenderedChat {
  const pieces = RENDER[templateFor(model)](messages);
  let text = '';
  let tokens = 0;
  for (const p of pieces) {
    if ('special' in p) {
      text += p.special;
      tokens += 1;
    } else {
      text += p.text;
      // No SentencePiece dummy space: the text follows a special token or more text.
      tokens += countTextTokens(p.text, false);
    }
  }
  return { text, tokens };
}
