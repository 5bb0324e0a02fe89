// Bundles the CLI, the library entry and the bench runner into dist/ with esbuild.
// WGSL files are inlined as text, so dist/ runs without the source tree.
import { build } from 'esbuild';

const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true,
  loader: { '.wgsl': 'text' }, external: ['webgpu', '@tensorflow/*', '@jax-js/*'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { crab: 'src/cli.ts', index: 'src/index.ts', bench: 'bench/main.ts' }, outdir: 'dist' });
