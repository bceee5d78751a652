// The request fields the contract derives from a prompt's text (core/schema.ts: prompt_hash,
// prompt_words), computed one way by the load generator and the offline simulator alike.
import crypto from 'node:crypto';

/** prompt_hash: the first 16 hex digits of the SHA-256 of the prompt text. */
export function promptHash(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** prompt_words: whitespace-separated words. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}
