/**
 * dropout — `F.dropout(x, p, training)` with a seeded, stateless mask (`wgsl/dropout.wgsl`): the
 * mask is a hash of (seed, index), so the backward recomputes it instead of storing it and runs
 * repeat exactly. Identity when not training or p = 0.
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, record } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { kernel } from './registry.js';

/** Zeroes each element with probability `p` and scales the rest by 1/(1−p). */
export function dropout(x: Tensor, p: number, seed: number, training = true): Tensor {
  expectDType('dropout', 'f32', x);
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: probability ${p} must be in [0, 1)`);
  if (!training || p === 0) return x;
  const s = seed >>> 0;
  const y = new Tensor(x.shape, 'f32');
  launch1d(kernel('dropout'), x.size, [x.buffer, y.buffer], [x.size, s, f32(p)]);
  return record('dropout', y, [x], (g) => {
    const dx = new Tensor(x.shape, 'f32');
    launch1d(kernel('dropout'), x.size, [g.buffer, dx.buffer], [x.size, s, f32(p)]);
    return [dx];
  });
}
