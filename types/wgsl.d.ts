/** WGSL sources are imported as text (esbuild `text` loader; a vitest plugin does the same). */
declare module '*.wgsl' {
  const source: string;
  export default source;
}
