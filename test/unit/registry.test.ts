// The kernel registry against the WGSL files themselves, without a GPU: every `@compute` entry
// point of every .wgsl file is in the registry under that file, every registry entry exists in
// its file, every file is registered, and the op-code tables match the constants in the WGSL.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryEntries, REGISTRY } from '../../src/kernels/registry.js';
import { UNARY_OPS } from '../../src/kernels/unary.js';
import { BINARY_OPS } from '../../src/kernels/binary.js';
// @ts-expect-error: plain .mjs shared with the build (no types)
import { loadWgsl } from '../../scripts/wgsl.mjs';

const wgslDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'wgsl');

/** The `@compute` entry points of a WGSL text: the `fn` after each `@compute` attribute. */
export function computeEntries(text: string): string[] {
  const code = text.replace(/\/\/[^\n]*/g, '');
  return [...code.matchAll(/@compute[^{]*?\bfn\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1]!);
}

/** Every .wgsl file under wgsl/ (not the included lib/ helpers), with its entry points. */
function wgslFiles(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of readdirSync(wgslDir)) if (f.endsWith('.wgsl')) out.set(f, computeEntries(readFileSync(join(wgslDir, f), 'utf8')));
  return out;
}

/** The registry's entry points per file (variants sharing a file pool theirs). */
function registered(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const e of registryEntries()) {
    if (!e.file) continue;
    const s = out.get(e.file) ?? new Set<string>();
    for (const n of e.entries) s.add(n);
    out.set(e.file, s);
  }
  return out;
}

/** `const NAME = 12u;` constants of a WGSL text. */
function opConstants(text: string): Map<string, number> {
  return new Map([...text.matchAll(/const ([A-Z][A-Z0-9_]*) = (\d+)u;/g)].map((m) => [m[1]!, Number(m[2])]));
}

describe('registry', () => {
  it('registry: the entry-point reader finds @compute functions and skips commented ones', () => {
    const text = '@compute @workgroup_size(WG)\nfn main(@builtin(global_invocation_id) g: vec3u) {}\n// @compute fn old() {}\n@compute\n@workgroup_size(8, 1)\nfn two_lines(a: u32) {}\nfn helper() {}';
    expect(computeEntries(text)).toEqual(['main', 'two_lines']);
  });

  it('registry: every @compute entry point of every .wgsl file is registered under its file, and nothing else is', () => {
    const files = wgslFiles();
    const reg = registered();
    const problems: string[] = [];
    for (const [file, entries] of files) {
      const known = reg.get(file);
      if (!known) {
        problems.push(`${file}: not in the registry (src/kernels/registry.ts)`);
        continue;
      }
      for (const e of entries) if (!known.has(e)) problems.push(`${file}: entry point ${e} is not in the registry`);
      for (const e of known) if (!entries.includes(e)) problems.push(`${file}: the registry names entry point ${e}, which the file does not have`);
    }
    for (const file of reg.keys()) if (!files.has(file)) problems.push(`registry names ${file}, which is not under wgsl/`);
    expect(problems).toEqual([]);
  });

  it('registry: a file named <stem>.wgsl or <stem>.<variant>.wgsl belongs to that stem', () => {
    for (const e of registryEntries()) if (e.file) expect(e.file.split('.')[0], `${e.stem}/${e.variant}`).toBe(e.stem);
    expect(Object.keys(REGISTRY).sort()).toEqual([...new Set(registryEntries().map((e) => e.stem))].sort());
  });

  it('registry: an entry point added to a .wgsl file without a registry entry is caught', () => {
    // The check above, run on a copy of unary.wgsl with one more entry point.
    const text = readFileSync(join(wgslDir, 'unary.wgsl'), 'utf8') + '\n@compute @workgroup_size(WG)\nfn extra(@builtin(global_invocation_id) gid: vec3u) {}\n';
    const known = registered().get('unary.wgsl')!;
    expect(computeEntries(text).filter((e) => !known.has(e))).toEqual(['extra']);
  });

  it('registry: UNARY_OPS and BINARY_OPS have the names and values of the OP constants in their WGSL', () => {
    for (const [file, table] of [['unary.wgsl', UNARY_OPS], ['binary.wgsl', BINARY_OPS]] as const) {
      const consts = opConstants(readFileSync(join(wgslDir, file), 'utf8'));
      const want = new Map(Object.entries(table).map(([k, v]) => [k.toUpperCase(), v]));
      expect(consts, file).toEqual(want);
    }
  });

  it('registry: #include expands lib files once, and every kernel that folds a 1-D index uses lib/grid.wgsl', () => {
    const src = loadWgsl(join(wgslDir, 'attention.subgroup.wgsl')) as string;
    expect(src).not.toMatch(/^#include/m);
    expect(src.match(/fn stepT\(/g)?.length).toBe(1);
    for (const f of readdirSync(wgslDir)) {
      if (!f.endsWith('.wgsl')) continue;
      const raw = readFileSync(join(wgslDir, f), 'utf8');
      expect(raw, f).not.toMatch(/gid\.x \+ gid\.y \* nwg\.x \* WG/);
    }
  });
});
