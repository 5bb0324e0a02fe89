/**
 * fill — `out[i] = value + step·i` (zeros, ones, full, arange). No host upload, so creating a
 * constant never forces a submit.
 * @module
 */
import source from '../../wgsl/fill.wgsl';
import { f32 } from '../tensor/runtime.js';
import { setFill, type Tensor } from '../tensor/tensor.js';
import { launch1d, rowChunks } from './util.js';

/** The fill kernel. */
export const fillKernel = { stem: 'fill', source };

/** Writes `value + step·i` into every element of `out` (in place). */
export function fillInto(out: Tensor, value: number, step: number): void {
  // Tensors above the binding limit are filled in aligned chunks (element e of a chunk starting
  // at element s gets value + step·(s + e)).
  for (const [first, count, offset, size] of rowChunks(out.size, 1)) {
    const b = { buffer: out.buffer, offset, size };
    if (out.dtype === 'f32') launch1d(fillKernel, count, [b], [count, f32(value + step * first), f32(step), 0, 0]);
    else launch1d(fillKernel, count, [b], [count, f32(0), f32(0), (value + step * first) | 0, step | 0], undefined, 'main_i32');
  }
}
setFill(fillInto);
