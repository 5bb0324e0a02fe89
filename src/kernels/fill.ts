/**
 * fill — `out[i] = value + step·i`: the constants (`zeros`, `ones`, `full`, `arange`). No host
 * upload, so creating a constant never forces a submit.
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, ensureDevice, type DType } from '../tensor/tensor.js';
import { launch1d, rowChunks } from './util.js';
import { kernel } from './registry.js';

/** Writes `value + step·i` into every element of `out` (in place). */
export function fillInto(out: Tensor, value: number, step: number): void {
  // Tensors above the binding limit are filled in aligned chunks (element e of a chunk starting
  // at element s gets value + step·(s + e)).
  for (const [first, count, offset, size] of rowChunks(out.size, 1)) {
    const b = { buffer: out.buffer, offset, size };
    if (out.dtype === 'f32') launch1d(kernel('fill'), count, [b], [count, f32(value + step * first), f32(step), 0, 0]);
    else launch1d(kernel('fill'), count, [b], [count, f32(0), f32(0), (value + step * first) | 0, step | 0], undefined, 'main_i32');
  }
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
  ensureDevice();
  const t = new Tensor(shape, dtype);
  fillInto(t, value, 0);
  return t;
}
/** A tensor of zeros. */
export const zeros = (shape: readonly number[], dtype: DType = 'f32'): Tensor => full(shape, 0, dtype);
/** A tensor of ones. */
export const ones = (shape: readonly number[], dtype: DType = 'f32'): Tensor => full(shape, 1, dtype);

/** `[start, start + step, …]` with `n` values. */
export function arange(n: number, start = 0, step = 1, dtype: DType = 'f32'): Tensor {
  ensureDevice();
  const t = new Tensor([n], dtype);
  fillInto(t, start, step);
  return t;
}
