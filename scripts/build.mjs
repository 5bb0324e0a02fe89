// Bundles the CLI, the library entry and the bench runner into dist/ with esbuild.
// TF.js (bench only) is bundled too: its gradient registrations are ESM files with
// extensionless imports that Node cannot load directly, but esbuild resolves.
// WGSL files are inlined as text (with their #include lines expanded), so dist/ runs without
// the source tree.
import { copyFileSync } from 'node:fs';
import { build } from 'esbuild';
import { wgslPlugin } from './wgsl.mjs';

const common = {
  bundle: true, platform: 'node', format: 'esm', target: 'node20', sourcemap: true,
  plugins: [wgslPlugin], external: ['webgpu', '@jax-js/*', 'playwright-core'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: { crab: 'src/cli.ts', index: 'src/index.ts', bench: 'bench/main.ts' }, outdir: 'dist' });
// The browser build: the page's navigator.gpu instead of Dawn. `webgpu` (Dawn) is only imported
// under Node, and node:fs only where the device silences Dawn's stderr under Node, so both stay
// external and are never loaded in a page (node:os lowers the waiting thread's priority under Node).
await build({
  bundle: true, platform: 'browser', format: 'esm', target: 'es2022', sourcemap: true, plugins: [wgslPlugin],
  external: ['webgpu', 'node:fs', 'node:os'], logLevel: 'warning',
  entryPoints: { crab: 'src/browser.ts', app: 'src/web/app.ts' }, outdir: 'dist/browser',
});
copyFileSync('src/web/index.html', 'dist/browser/index.html');
