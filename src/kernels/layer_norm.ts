/**
 * layer_norm over the last axis (`wgsl/layer_norm.wgsl`): `y = (x − μ)·rstd·w + b`, biased
 * variance, saving μ and rstd per row. Backward: `backward` gives dx per row, `backward_params`
 * gives dw and db per column. PyTorch: `F.layer_norm(x, (D,), w, b, eps)`.
 * @module
 */
import { dispatch, f32 } from '../tensor/runtime.js';
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { kernel } from './registry.js';

/** Layer norm over the last axis; `w` and `b` of shape [D], or both null for no affine. */
export function layerNorm(x: Tensor, w: Tensor | null, b: Tensor | null, eps = 1e-5): Tensor {
  expectDType('layer_norm', 'f32', x);
  const D = x.shape.at(-1) ?? 1;
  if (w && (w.ndim !== 1 || w.shape[0] !== D)) throw new Error(`layer_norm: weight ${fmt(w.shape)} does not match the last dimension of ${fmt(x.shape)}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== D)) throw new Error(`layer_norm: bias ${fmt(b.shape)} does not match the last dimension of ${fmt(x.shape)}`);
  if (!w !== !b) throw new Error('layer_norm: give both weight and bias, or neither');
  const rows = D === 0 ? 0 : x.size / D;
  const y = new Tensor(x.shape, 'f32');
  const stats = new Tensor([rows, 2], 'f32');
  const affine = w ? 1 : 0;
  // Without affine, x stands in for the unused w/b bindings (read-only aliasing is allowed).
  const wb = w ? w.buffer : x.buffer;
  const bb = b ? b.buffer : x.buffer;
  launch1d(kernel('layer_norm'), rows, [x.buffer, wb, bb, y.buffer, stats.buffer], [rows, D, f32(eps)], { AFFINE: affine }, undefined, 300 * x.size);
  const inputs = w && b ? [x, w, b] : [x];
  const out = record('layer_norm', y, inputs, (g) => {
    const dx = new Tensor(x.shape, 'f32');
    launch1d(kernel('layer_norm'), rows, [x.buffer, wb, stats.buffer, g.buffer, dx.buffer], [rows, D, f32(eps)], { AFFINE: affine }, 'backward', 300 * x.size);
    if (!w || !b) return [dx];
    const dw = new Tensor([D], 'f32');
    const db = new Tensor([D], 'f32');
    dispatch({ ...kernel('layer_norm'), entry: 'backward_params' }, {
      buffers: [x.buffer, g.buffer, stats.buffer, dw.buffer, db.buffer], params: [rows, D, f32(eps)],
      constants: { AFFINE: affine }, workgroups: [Math.ceil(D / 64)],
    });
    return [dx, dw, db];
  });
  if (!out.requiresGrad) stats.dispose();
  return out;
}
