// WGSL has no includes, so kernels share helpers through one directive expanded at load time:
//   #include "lib/grid.wgsl"
// on a line of its own, a path relative to wgsl/. Each file is inlined once per kernel (a second
// #include of it is dropped), recursively. esbuild (scripts/build.mjs), vitest (vitest.config.ts)
// and the registry test load .wgsl files through this one function, so what runs is what the
// test reads. An unexpanded directive is not WGSL, so a loader that skips this fails loudly.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve, relative } from 'node:path';

const INCLUDE = /^[ \t]*#include[ \t]+"([^"]+)"[ \t]*$/gm;

/** The WGSL root: the `wgsl/` folder above `file`. */
function rootOf(file) {
  let d = dirname(resolve(file));
  while (!d.endsWith('/wgsl') && dirname(d) !== d) d = dirname(d);
  return d;
}

/** The text of a .wgsl file with its #include lines expanded. */
export function loadWgsl(file, seen = new Set()) {
  const root = rootOf(file);
  seen.add(resolve(file));
  return readFileSync(file, 'utf8').replace(INCLUDE, (_, rel) => {
    const path = resolve(join(root, rel));
    if (seen.has(path)) return `// (${rel} already included)`;
    let text;
    try {
      text = loadWgsl(path, seen);
    } catch (e) {
      throw new Error(`${relative(process.cwd(), file)}: #include "${rel}": ${e.code === 'ENOENT' ? 'no such file under wgsl/' : e.message}`);
    }
    return `// ---- ${rel} ----\n${text.trimEnd()}\n// ---- end of ${rel} ----`;
  });
}

/** The esbuild plugin: `.wgsl` imports become their expanded text. */
export const wgslPlugin = {
  name: 'wgsl',
  setup(build) {
    build.onLoad({ filter: /\.wgsl$/ }, (args) => ({ contents: `export default ${JSON.stringify(loadWgsl(args.path))};`, loader: 'js' }));
  },
};
