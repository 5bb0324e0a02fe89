/**
 * One flag table per command: each option declared once — name, type, default, help, and the
 * training-config key it sets. Parsing, validation (one schema per type, through zod) and the
 * `--help` text all come from that declaration, so they cannot drift apart.
 * @module
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseWith, show } from './schema.js';

/** A mistake in how a command was called: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One option of a command. */
export interface Flag {
  /** `string` (a path or name), `int` (≥ `min`, default 1), `number` (≥ `min` when given), `boolean`, or one of `values`. */
  type: 'string' | 'int' | 'number' | 'boolean' | 'enum';
  /** The allowed values of an `enum` flag. */
  values?: readonly string[];
  /** Smallest allowed value of an `int` (default 1) or `number` flag. */
  min?: number;
  /** Placeholder in the help, e.g. `DIR` (default: from the type). */
  arg?: string;
  help: string;
  /** The value when the flag is not given (shown in the help). */
  default?: string | number | boolean;
  /** The training-config key the flag sets (`epochs`, `crab.crossModalLayers`): merged with a config file through one schema. */
  key?: string;
  /** For a boolean flag with a `key`: the value it sets there (default `true`). */
  sets?: unknown;
  required?: boolean;
}

/** A command's flags, by name without the leading dashes. */
export type FlagTable = Record<string, Flag>;

/** The parsed value type of a flag. */
type ValueOf<F extends Flag> = F['type'] extends 'boolean' ? boolean : F['type'] extends 'int' | 'number' ? number | undefined : string | undefined;

/** Parsed flags, typed by the table. */
export type Flags<T extends FlagTable> = { [K in keyof T]: ValueOf<T[K]> };

/** The zod schema a flag's text goes through. */
function schemaOf(f: Flag): z.ZodType<unknown> {
  switch (f.type) {
    case 'int':
      return z.string().regex(/^[-+]?\d+$/, 'expected an integer').transform(Number).pipe(z.number().int().min(f.min ?? 1));
    case 'number': {
      const n = z.number().refine(Number.isFinite, 'expected a finite number');
      return z.string().regex(/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, 'expected a number').transform(Number).pipe(f.min === undefined ? n : n.pipe(z.number().min(f.min)));
    }
    case 'enum':
      return z.enum(f.values as [string, ...string[]]);
    default:
      return z.string().min(1, 'expected a non-empty value');
  }
}

/**
 * A token after a valued flag that starts with `-` and reads as a number (`--epochs -1`) is that
 * flag's value: node's parser would call it an ambiguous option, and the schema should be the one
 * to say what is allowed.
 */
function joinNegativeValues(table: FlagTable, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : '';
    const next = argv[i + 1];
    if (table[name] && table[name]!.type !== 'boolean' && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * Parses `argv` against `table`: unknown options, missing values and values outside a flag's
 * type or range are {@link UsageError}s naming the flag, the value and what is allowed.
 */
export function parseFlags<T extends FlagTable>(command: string, table: T, argv: string[], o: { positionals?: boolean } = {}): { values: Flags<T>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, f] of Object.entries(table)) options[name] = { type: f.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: joinNegativeValues(table, argv), options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    const m = (e as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(m);
    if (unknown) throw new UsageError(`${command}: unknown option ${unknown[1]} (see crab ${command} --help)`);
    const missing = /Option '(--[\w-]+)[^']*' argument missing/.exec(m);
    if (missing) throw new UsageError(`${command}: ${missing[1]} needs a value (see crab ${command} --help)`);
    throw new UsageError(`${command}: ${m.split('\n')[0]} (see crab ${command} --help)`);
  }
  if (!o.positionals && parsed.positionals.length) throw new UsageError(`${command}: unexpected argument ${show(parsed.positionals[0])} (see crab ${command} --help)`);
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(table)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (f.required) throw new UsageError(`${command}: --${name} is required${f.values ? ` (one of ${f.values.join(', ')})` : ''}`);
      values[name] = f.type === 'boolean' ? (f.default ?? false) : f.default;
      continue;
    }
    try {
      values[name] = f.type === 'boolean' ? raw : parseWith(schemaOf(f), raw, () => `--${name}`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return { values: values as Flags<T>, positionals: parsed.positionals };
}

/** The config keys the given flags set, as a nested object (what a config file would hold). */
export function configFromFlags(table: FlagTable, values: Record<string, unknown>, given: (name: string) => boolean): Record<string, unknown> {
  const cfg: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(table)) {
    if (!f.key || !given(name)) continue;
    const v = f.type === 'boolean' ? (values[name] ? (f.sets ?? true) : undefined) : values[name];
    if (v === undefined) continue;
    const path = f.key.split('.');
    let o = cfg;
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[path.at(-1)!] = v;
  }
  return cfg;
}

/** The flag that sets a config path, if any (`['crab', 'hidden']` → `--hidden`). */
export function flagForKey(table: FlagTable, path: readonly PropertyKey[]): string | undefined {
  const key = path.join('.');
  const hit = Object.entries(table).find(([, f]) => f.key === key);
  return hit ? `--${hit[0]}` : undefined;
}

/** Whether a flag was given on the command line (not just defaulted). */
export function givenFlags(argv: string[]): (name: string) => boolean {
  const names = new Set(argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!));
  return (name) => names.has(name);
}

/** The `--help` text: usage line, description, then one line per flag with its default or values. */
export function helpText(usageLine: string, description: string, table: FlagTable): string {
  const rows = Object.entries(table).map(([name, f]) => {
    const arg = f.type === 'boolean' ? '' : ` ${f.arg ?? (f.type === 'enum' ? f.values!.join('|') : f.type === 'int' ? 'N' : f.type === 'number' ? 'X' : 'VALUE')}`;
    const extra = [f.required ? 'required' : '', f.default !== undefined && f.type !== 'boolean' ? `default ${f.default}` : '', f.key ? `config key ${f.key}` : '']
      .filter(Boolean).join('; ');
    return [`  --${name}${arg}`, `${f.help}${extra ? ` (${extra})` : ''}`];
  });
  const width = Math.min(34, Math.max(...rows.map(([l]) => l!.length)) + 2);
  const lines = rows.map(([l, h]) => (l!.length + 2 > width ? `${l}\n${' '.repeat(width)}${h}` : `${l!.padEnd(width)}${h}`));
  return `${usageLine}\n${description}\n\noptions:\n${lines.join('\n')}\n  --help${' '.repeat(Math.max(1, width - 8))}this text`;
}
