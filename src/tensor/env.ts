/**
 * The host the engine runs in — Node (Dawn through the `webgpu` package) or a browser (the page's
 * `navigator.gpu`) — without touching Node's `process` where it does not exist: environment
 * variables read as undefined in a browser, and diagnostics go to the console there.
 * @module
 */

interface ProcessLike {
  env: Record<string, string | undefined>;
  versions?: { node?: string };
  stderr?: { write(s: string): unknown };
  platform?: string;
}

const proc = (globalThis as { process?: ProcessLike }).process;

/** True under Node (false in a browser, including a page that defines a `process` shim). */
export const isNode = typeof proc?.versions?.node === 'string';

/** An environment variable under Node; undefined in a browser. */
export function envVar(name: string): string | undefined {
  return isNode ? proc!.env[name] : undefined;
}

/** Sets an environment variable under Node when unset (no-op in a browser). */
export function envDefault(name: string, value: string): void {
  if (isNode) proc!.env[name] ||= value;
}

/** A diagnostic line: stderr under Node, the console in a browser. */
export function warn(line: string): void {
  if (isNode) proc!.stderr!.write(line.endsWith('\n') ? line : `${line}\n`);
  else console.warn(line.trimEnd());
}
