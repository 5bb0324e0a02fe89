/**
 * `config.json` reading: typed configs keyed by the file's own field names, defaults stated once,
 * and every field this project reads checked by a schema before a model is built — ranges,
 * divisibility, known activations, list lengths — with the file and key in the error. Keys the
 * project does not read (`architectures`, `model_type`, …) pass through unchecked.
 * @module
 */
import { filesOf, joinName, type ModelFiles } from './model_files.js';
import { z } from 'zod';
import { parseWith, SchemaError, show } from '../util/schema.js';

/** A field rule that ties several keys together: returns the offending key and why, or null. */
export type ConfigRule<T> = (c: T) => { key: string; why: string } | null;

/**
 * Reads `config.json` of a folder (Node) or of given files: requires `required` keys, fills `defaults`, checks the result with
 * `schema` and `rules`. Errors name the file and the key.
 */
export function readConfig<T extends object>(dir: string | ModelFiles, required: ReadonlyArray<keyof T & string>, defaults: T, schema: z.ZodType<unknown>, rules: Array<ConfigRule<T>> = []): T {
  const files = filesOf(dir);
  const file = joinName(files.where, 'config.json');
  if (!files.has('config.json')) throw new Error(`${file} not found: a model folder needs config.json (with ${required.join(', ')})`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(files.text('config.json'));
  } catch (e) {
    throw new SchemaError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SchemaError(`${file}: expected a JSON object`);
  const missing = required.filter((k) => raw[k] === undefined);
  if (missing.length) throw new SchemaError(`${file}: missing required key(s) ${missing.join(', ')}`);
  const c = { ...defaults, ...raw } as T;
  parseWith(schema, c, (p) => `${file}: ${p.map(String).join('.')}`);
  for (const rule of rules) {
    const bad = rule(c);
    if (bad) throw new SchemaError(`${file}: ${bad.key}: ${show((c as Record<string, unknown>)[bad.key])} is not allowed: ${bad.why}`);
  }
  return c;
}

/** Schema pieces shared by the model configs. */
export const count = z.number().int().positive();
export const rate = z.number().min(0).max(1);
/** The activations the models implement (HF's names for the exact, erf-based GELU). */
export const activation = z.enum(['gelu', 'gelu_python']);

/** `hidden_size` divisible by `num_attention_heads`. */
export const headsDivideHidden: ConfigRule<{ hidden_size: number; num_attention_heads: number }> = (c) =>
  c.hidden_size % c.num_attention_heads ? { key: 'hidden_size', why: `not divisible by num_attention_heads = ${c.num_attention_heads}` } : null;
