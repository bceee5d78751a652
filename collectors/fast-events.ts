// Stream events of the common shapes read without JSON.parse: an OpenAI token chunk (text or
// delta content, finish_reason; no usage, no error) and a llama.cpp token event (content,
// tokens; stop false). Anything else — usage, errors, llama.cpp's closing stop:true event, a
// value of an unexpected type, invalid JSON — answers false and is parsed whole by the handler.
import { eachMember, FAIL, keyIs, skipString, skipValue, skipWs, stringAt, stringEscaped } from './json-scan.ts';

/** A captured string-or-null value: where it lies in the event's bytes. */
class Field {
  kind: 0 | 1 | 2 = 0; // 0 absent, 1 null, 2 string
  start = 0;
  end = 0;
  escaped = false;
  reset(): void {
    this.kind = 0;
  }
  /** The string value (kind 2 only). */
  text(b: Buffer): string {
    return stringAt(b, this.start, this.end, this.escaped);
  }
}

/** Reads a string or null value into `f`; any other type fails (the full parse decides). */
function capture(f: Field, b: Buffer, i: number, end: number): number {
  if (b[i] === 34) {
    const e = skipString(b, i, end);
    if (e === FAIL) return FAIL;
    f.kind = 2;
    f.start = i;
    f.end = e;
    f.escaped = stringEscaped;
    return e;
  }
  if (end - i >= 4 && b[i] === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
    f.kind = 1;
    return i + 4;
  }
  return FAIL;
}

const isNull = (b: Buffer, i: number, end: number) => end - i >= 4 && b[i] === 110 && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108;

/** A string value spelling "error" (ev.object === 'error' marks an error frame). */
function isErrorString(b: Buffer, i: number, e: number): boolean {
  return e - i === 7 && b[i + 1] === 101 && b[i + 2] === 114 && b[i + 3] === 114 && b[i + 4] === 111 && b[i + 5] === 114;
}

// one event's captured values (the scan is synchronous and never re-entered)
const text = new Field();
const content = new Field();
const reasoning = new Field();
const messageContent = new Field();
const finish = new Field();
/** choices: 0 absent, 1 empty, 2 non-empty (an object, so that TS sees the members' writes). */
const seen = { choices: 0 as 0 | 1 | 2 };

function deltaMember(b: Buffer, k: number, ke: number, i: number, end: number): number {
  if (keyIs(b, k, ke, 'content')) return capture(content, b, i, end);
  if (keyIs(b, k, ke, 'reasoning_content')) return capture(reasoning, b, i, end);
  return skipValue(b, i, end, 4);
}

function messageMember(b: Buffer, k: number, ke: number, i: number, end: number): number {
  if (keyIs(b, k, ke, 'content')) return capture(messageContent, b, i, end);
  return skipValue(b, i, end, 4);
}

function choiceMember(b: Buffer, k: number, ke: number, i: number, end: number): number {
  if (keyIs(b, k, ke, 'text')) return capture(text, b, i, end);
  if (keyIs(b, k, ke, 'finish_reason')) return capture(finish, b, i, end);
  if (keyIs(b, k, ke, 'delta')) {
    // a repeated key replaces the whole object in JSON.parse
    content.reset();
    reasoning.reset();
    return eachMember(b, i, end, deltaMember, 3);
  }
  if (keyIs(b, k, ke, 'message')) {
    messageContent.reset();
    return eachMember(b, i, end, messageMember, 3);
  }
  return skipValue(b, i, end, 3);
}

function openaiMember(b: Buffer, k: number, ke: number, i: number, end: number): number {
  if (keyIs(b, k, ke, 'choices')) {
    if (b[i] !== 91 || seen.choices !== 0) return FAIL; // not an array, or a repeated key
    let j = skipWs(b, i + 1, end);
    if (b[j] === 93) {
      seen.choices = 1;
      return j + 1;
    }
    seen.choices = 2;
    j = eachMember(b, j, end, choiceMember, 2);
    for (;;) {
      if (j === FAIL) return FAIL;
      j = skipWs(b, j, end);
      if (b[j] === 93) return j + 1;
      if (b[j] !== 44) return FAIL;
      j = skipValue(b, skipWs(b, j + 1, end), end, 2);
    }
  }
  if (keyIs(b, k, ke, 'usage')) return isNull(b, i, end) ? i + 4 : FAIL;
  if (keyIs(b, k, ke, 'error')) return FAIL;
  if (keyIs(b, k, ke, 'object') && b[i] === 34) {
    const e = skipString(b, i, end);
    return e === FAIL || isErrorString(b, i, e) ? FAIL : e;
  }
  return skipValue(b, i, end, 1);
}

function resetOpenAi(): void {
  text.reset();
  content.reset();
  reasoning.reset();
  messageContent.reset();
  finish.reset();
  seen.choices = 0;
}

/** What an OpenAI token chunk says, or null when the event needs the full parse. */
export interface OpenAiChunk {
  /** choices[0] exists (else the event carries nothing the handler reads). */
  hasChoice: boolean;
  /** The choice's text (completions) or delta/message content (chat), as the handler picks it. */
  text: string | undefined;
  finishReason: string | null;
}
const chunk: OpenAiChunk = { hasChoice: false, text: undefined, finishReason: null };

/** Scans an OpenAI stream event in [start, end); the returned object is reused per call. */
export function scanOpenAi(b: Buffer, start: number, end: number, chat: boolean): OpenAiChunk | null {
  resetOpenAi();
  const e = eachMember(b, start, end, openaiMember, 0);
  if (e === FAIL || skipWs(b, e, end) !== end) return null;
  chunk.hasChoice = seen.choices === 2;
  chunk.finishReason = finish.kind === 2 && finish.end - finish.start > 2 ? finish.text(b) : null;
  // textOf: completions read c.text; chat reads delta.content ?? delta.reasoning_content ?? message.content
  const f = !chat ? text : content.kind === 2 ? content : reasoning.kind === 2 ? reasoning : messageContent;
  chunk.text = f.kind === 2 ? f.text(b) : undefined;
  return chunk;
}

// llama.cpp
const lcContent = new Field();
/** tokens: -1 absent or null (the handler's Array.isArray fails), else the array's length. */
const lc = { tokens: -1, stop: false };

function llamaMember(b: Buffer, k: number, ke: number, i: number, end: number): number {
  if (keyIs(b, k, ke, 'content')) return capture(lcContent, b, i, end);
  if (keyIs(b, k, ke, 'stop')) {
    // only `false` is read here; the closing stop:true event goes to the full parse
    if (end - i >= 5 && b[i] === 102 && b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101) {
      lc.stop = false;
      return i + 5;
    }
    return FAIL;
  }
  if (keyIs(b, k, ke, 'tokens')) {
    if (isNull(b, i, end)) {
      lc.tokens = -1;
      return i + 4;
    }
    if (b[i] !== 91) return FAIL;
    let j = skipWs(b, i + 1, end);
    if (b[j] === 93) {
      lc.tokens = 0;
      return j + 1;
    }
    let n = 0;
    for (;;) {
      j = skipValue(b, j, end, 2);
      if (j === FAIL) return FAIL;
      n++;
      j = skipWs(b, j, end);
      if (b[j] === 93) {
        lc.tokens = n;
        return j + 1;
      }
      if (b[j] !== 44) return FAIL;
      j = skipWs(b, j + 1, end);
    }
  }
  if (keyIs(b, k, ke, 'error')) return FAIL;
  if (keyIs(b, k, ke, 'object') && b[i] === 34) {
    const e = skipString(b, i, end);
    return e === FAIL || isErrorString(b, i, e) ? FAIL : e;
  }
  return skipValue(b, i, end, 1);
}

export interface LlamaChunk {
  text: string | undefined;
  /** ev.tokens.length, or null when tokens is absent or null. */
  tokens: number | null;
}
const lchunk: LlamaChunk = { text: undefined, tokens: null };

/** Scans a llama.cpp token event (stop absent or false); null when it needs the full parse. */
export function scanLlama(b: Buffer, start: number, end: number): LlamaChunk | null {
  lcContent.reset();
  lc.tokens = -1;
  lc.stop = false;
  const e = eachMember(b, start, end, llamaMember, 0);
  if (e === FAIL || skipWs(b, e, end) !== end || lc.stop) return null;
  lchunk.text = lcContent.kind === 2 ? lcContent.text(b) : undefined;
  lchunk.tokens = lc.tokens < 0 ? null : lc.tokens;
  return lchunk;
}
