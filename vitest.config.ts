import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Import `.wgsl` files as text, like esbuild's `text` loader does for dist/.
  plugins: [{
    name: 'wgsl-text',
    transform(code: string, id: string) {
      if (id.endsWith('.wgsl')) return { code: `export default ${JSON.stringify(code)};`, map: null };
      return undefined;
    },
  }],
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // One GPU device per process; lavapipe has 2 cores, so files run one after another.
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
