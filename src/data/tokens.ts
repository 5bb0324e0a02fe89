/**
 * Text to the ids an encoder takes, as the Crab authors do (at most 128 tokens, `</s>` kept).
 * @module
 */

/** Anything that turns text into ids with `<s> … </s>` (the BPE tokenizer, the demo's word vocabulary). */
export interface TextEncoder_ {
  encode(text: string): number[];
}

/** Token ids with `<s> … </s>`, truncated to `maxTokens` keeping `</s>` (the authors use 128). */
export function tokenize(tokenizer: TextEncoder_, text: string, maxTokens = 128): number[] {
  const ids = tokenizer.encode(text);
  return ids.length > maxTokens ? [...ids.slice(0, maxTokens - 1), ids.at(-1)!] : ids;
}
