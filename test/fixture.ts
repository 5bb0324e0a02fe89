// Reads a PyTorch golden case from test/fixtures (copied from the shared reference set).
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SafetensorsFile } from '../src/model/safetensors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** One golden case: its tensors and the tolerance rule of the fixture README. */
export class Case {
  readonly st: SafetensorsFile;
  readonly meta: Record<string, unknown>;
  constructor(readonly name: string) {
    this.st = SafetensorsFile.open(join(root, `${name}.safetensors`));
    const side = join(root, `${name}.json`);
    this.meta = existsSync(side) ? JSON.parse(readFileSync(side, 'utf8')) : {};
  }
  f(name: string): Float32Array {
    return this.st.float32(name);
  }
  i(name: string): Int32Array {
    return this.st.int32(name);
  }
  shape(name: string): number[] {
    return this.st.shape(name);
  }
  has(name: string): boolean {
    return this.st.entries.has(name);
  }
  /** atol = max(1e-6, 10 × the case's largest f32-vs-f64 error), as the fixture README says. */
  get atol(): number {
    const errs = (this.meta.f32_vs_f64 ?? {}) as Record<string, { f32_vs_f64_maxabs: number }>;
    const worst = Math.max(0, ...Object.values(errs).map((e) => e.f32_vs_f64_maxabs));
    return Math.max(1e-6, 10 * worst);
  }
}
