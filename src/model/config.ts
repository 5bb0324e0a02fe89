/**
 * `config.json` reading: typed configs keyed by the file's own field names, defaults stated
 * once, unknown keys ignored, missing required keys named in the error.
 * @module
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** Reads `dir/config.json`, requires `required` keys, fills `defaults`. */
export function readConfig<T extends object>(dir: string, required: ReadonlyArray<keyof T & string>, defaults: Partial<T>): T {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${file} not found: a model folder needs config.json (with ${required.join(', ')})`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const missing = required.filter((k) => raw[k] === undefined);
  if (missing.length) throw new Error(`${file}: missing required key(s) ${missing.join(', ')}`);
  return { ...defaults, ...raw } as T;
}
