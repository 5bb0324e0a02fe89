import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs helper shared with scripts/build.mjs (no types)
import { loadWgsl } from './scripts/wgsl.mjs';

// `.wgsl` imports become their text with #include lines expanded, as esbuild does for dist/.
const wgsl = {
  name: 'wgsl',
  load(id: string) {
    if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(loadWgsl(id))};`, map: null };
    return undefined;
  },
};

// Two tiers. `unit`: parsers, tokenizer, metrics, corpus and config checks, the registry's
// reading of the WGSL files, the import graph: no GPU, and it proves it (test/unit/setup.ts makes
// any import of `webgpu` throw). `gpu`: kernels, models and training on a WebGPU adapter
// (lavapipe when there is no GPU), one device per process, files one after another.
export default defineConfig({
  plugins: [wgsl],
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        plugins: [wgsl],
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/unit/setup.ts'] },
      },
      {
        plugins: [wgsl],
        test: {
          name: 'gpu',
          include: ['test/kernels/**/*.test.ts', 'test/models/**/*.test.ts', 'test/train/**/*.test.ts', 'test/tensor/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/browser/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          // One GPU device per process; lavapipe has 2 cores, so files run one after another.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
