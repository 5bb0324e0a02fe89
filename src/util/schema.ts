/**
 * Schema errors a person can act on: the first problem zod found, as one line naming where the
 * value came from (a flag, or a file and key), the value, and what is allowed.
 * @module
 */
import type { z } from 'zod';

/** A validation failure already formatted for the user; the CLI prints it and exits 2. */
export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** Reads a value at a path of an object (undefined where the path does not exist). */
function at(obj: unknown, path: readonly PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as string] : undefined;
  return v;
}

/** A value as the user wrote it, for messages. */
export function show(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v);
}

/**
 * One line for the first issue: `<where>: <value> is not allowed: <why>`, or for an unknown key
 * `<where>: unknown key "<k>" (known: …)`. `where(path)` names the source of a path, e.g.
 * `--epochs` or `run.yaml: crab.hidden`; `known(path)` lists the keys allowed at an object path.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, where: (path: readonly PropertyKey[]) => string, known?: (path: readonly PropertyKey[]) => string[]): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    const list = known?.(issue.path) ?? [];
    const path = [...issue.path, keys[0]!];
    return `${where(path)}: unknown key${keys.length > 1 ? `s ${keys.map((k) => `"${k}"`).join(', ')}` : ''}${list.length ? ` (known: ${list.join(', ')})` : ''}`;
  }
  const value = at(input, issue.path);
  const what = value === undefined ? 'missing' : `${show(value)} is not allowed`;
  return `${where(issue.path)}: ${what}: ${humanize(issue)}`;
}

/** zod's message in the words of this project. */
function humanize(issue: z.core.$ZodIssue): string {
  const i = issue as z.core.$ZodIssue & { minimum?: number | bigint; maximum?: number | bigint; inclusive?: boolean; expected?: string; values?: unknown[]; origin?: string; format?: string };
  switch (issue.code) {
    case 'too_small':
      return `expected ${i.origin === 'array' ? 'at least' : i.inclusive ? '≥' : '>'} ${String(i.minimum)}${i.origin === 'array' ? ' items' : ''}`;
    case 'too_big':
      return `expected ${i.origin === 'array' ? 'at most' : i.inclusive ? '≤' : '<'} ${String(i.maximum)}${i.origin === 'array' ? ' items' : ''}`;
    case 'invalid_type':
      return i.expected === 'int' ? 'expected an integer' : `expected ${i.expected === 'array' ? 'a list' : i.expected === 'object' ? 'a mapping' : `a ${i.expected}`}`;
    case 'invalid_value':
      return `expected one of ${(i.values ?? []).map((v) => show(v)).join(', ')}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String((issue as { divisor: number }).divisor)}`;
    default:
      return issue.message;
  }
}

/**
 * Parses `input` with `schema`, or throws a {@link SchemaError} describing the first issue.
 */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, where: (path: readonly PropertyKey[]) => string, known?: (path: readonly PropertyKey[]) => string[]): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new SchemaError(describeIssue(r.error.issues[0]!, input, where, known));
}
