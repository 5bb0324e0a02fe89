// The shape of src/: no import cycles (type-only imports included), and arrows that point down
// the layers: tensor → kernels → model → data → train → report → commands → cli. Read from
// the source text, so it needs no GPU and fails CI on the first cycle.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'src');

/** What each folder of src/ may import (besides itself). */
const MAY_IMPORT: Record<string, string[]> = {
  tensor: [],
  util: [],
  audio: [],
  kernels: ['tensor'],
  model: ['tensor', 'kernels', 'util'],
  data: ['tensor', 'kernels', 'model', 'audio', 'util'],
  train: ['tensor', 'kernels', 'model', 'audio', 'util', 'data'],
  report: ['tensor', 'train', 'util'],
  commands: ['tensor', 'kernels', 'model', 'audio', 'util', 'data', 'train', 'report'],
  web: ['.'],
  '.': ['tensor', 'kernels', 'model', 'audio', 'util', 'data', 'train', 'report', 'commands'],
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative .ts imports and re-exports of a source text (static, dynamic and type-only). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const specs = [
    ...code.matchAll(/(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.[^'"]+)['"]/g),
    ...code.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.endsWith('.js'));
}

/** The graph of src/: file (relative to src) → the src files it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of tsFiles(src)) {
    const deps = importsOf(readFileSync(f, 'utf8')).map((s) => relative(src, resolve(dirname(f), s.replace(/\.js$/, '.ts'))));
    g.set(relative(src, f), deps);
  }
  return g;
}

/** Every elementary cycle's first occurrence, as a path a → … → a (depth-first search). */
export function findCycles(g: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

const folder = (f: string): string => (f.includes('/') ? f.split('/')[0]! : '.');

describe('imports', () => {
  it('imports: the reader sees static, re-exported, type-only and dynamic imports, not comments', () => {
    const text = "import { a } from './a.js';\nimport type { B } from '../b.js';\nexport * from './c.js';\nconst d = await import('./d.js');\n// import { e } from './e.js';\nimport x from 'node:fs';";
    expect(importsOf(text)).toEqual(['./a.js', '../b.js', './c.js', './d.js']);
  });

  it('imports: the cycle finder reports a cycle and passes a DAG', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
    expect(findCycles(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });

  it('imports: src/ has no import cycle', () => {
    const g = graph();
    expect(g.size).toBeGreaterThan(40);
    expect(findCycles(g).map((c) => c.join(' → '))).toEqual([]);
  });

  it('imports: every arrow points down the layers; train and data import nothing from commands; commands do not import each other', () => {
    expect(['commands/train.ts', 'commands/demo.ts'].every((f) => /export const \w+Command: Command\b/.test(readFileSync(join(src, f), 'utf8')))).toBe(true);
    const bad: string[] = [];
    // A command file is one that exports a Command; shared code (common.ts, json.ts) is not.
    const isCommand = (f: string): boolean => f.startsWith('commands/') && /export const \w+Command: Command\b/.test(readFileSync(join(src, f), 'utf8'));
    for (const [f, deps] of graph()) {
      const from = folder(f);
      for (const d of deps) {
        const to = folder(d);
        if (to === from) {
          if (isCommand(f) && isCommand(d)) bad.push(`${f} imports ${d}: commands do not import each other (shared code goes to commands/common.ts or below)`);
          continue;
        }
        if (!(MAY_IMPORT[from] ?? []).includes(to)) bad.push(`${f} imports ${d}: ${from}/ may import ${MAY_IMPORT[from]?.join(', ') || 'nothing outside itself'}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('imports: what a browser loads (src/browser.ts, src/web/app.ts) reaches no Node module, no package but zod, and no `process` but through tensor/env.ts', () => {
    // Value imports only: type-only ones leave nothing in the bundle.
    const seen = new Set<string>();
    const walk = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      const code = readFileSync(join(src, f), 'utf8').replace(/^(?:import|export)\s+type\b[^;]*;/gm, '');
      for (const d of importsOf(code)) walk(relative(src, resolve(dirname(join(src, f)), d.replace(/\.js$/, '.ts'))));
    };
    walk('browser.ts');
    walk(join('web', 'app.ts'));
    expect(seen.has(join('tensor', 'device.ts')) && seen.has(join('train', 'loop.ts')) && seen.has(join('model', 'crab.ts'))).toBe(true);
    const bad: string[] = [];
    for (const f of seen) {
      const code = readFileSync(join(src, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
      // Static imports of anything but relative files (type-only imports vanish from the bundle).
      // zod (schemas of config.json) is plain JavaScript and runs in a page.
      for (const m of code.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+['"]([^'"]+)['"]/gm)) if (!m[1]!.startsWith('.') && m[1] !== 'zod') bad.push(`${f}: imports ${m[1]}`);
      if (/(^|[^.\w])process\./.test(code) && f !== join('tensor', 'env.ts')) bad.push(`${f}: uses process`);
      // Dynamic imports: only Dawn and node:fs, both under Node only (in tensor/device.ts).
      for (const m of code.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) if (!m[1]!.startsWith('.') && f !== join('tensor', 'device.ts')) bad.push(`${f}: loads ${m[1]}`);
    }
    expect(bad).toEqual([]);
  });

  it('imports: only the device module loads Dawn, and only when the device is created', () => {
    const users = tsFiles(src).filter((f) => /from ['"]webgpu['"]|import\(['"]webgpu['"]\)/.test(readFileSync(f, 'utf8')));
    expect(users.map((f) => relative(src, f))).toEqual(['tensor/device.ts']);
    expect(readFileSync(join(src, 'tensor', 'device.ts'), 'utf8')).not.toMatch(/^import [^;]* from ['"]webgpu['"]/m);
  });
});
