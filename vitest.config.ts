import { defineConfig } from 'vitest/config';
// @ts-expect-error: a plain .mjs helper shared with scripts/build.mjs (no types)
import { loadWgsl } from './scripts/wgsl.mjs';

export default defineConfig({
  // `.wgsl` imports become their text with #include lines expanded, as esbuild does for dist/.
  plugins: [{
    name: 'wgsl',
    load(id: string) {
      if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(loadWgsl(id))};`, map: null };
      return undefined;
    },
  }],
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/unit/**'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
