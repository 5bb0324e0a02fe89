/**
 * group_norm — `F.group_norm(x, G, w, b, eps)` for x [B, C, T], composed: normalize each
 * (batch, group) block with the layer_norm kernel (no affine), then the per-channel affine with
 * broadcasting ops. Gradients come from those ops.
 * @module
 */
import { Tensor, fmt, record } from '../tensor/tensor.js';
import { f32 } from '../tensor/runtime.js';
import { layerNorm } from './layer_norm.js';
import { add, mul } from './binary.js';
import { sumTo } from './reduce.js';
import { expectDType, launch1d } from './util.js';
import { kernel } from './registry.js';

/** Group norm over [B, C, T] with `groups` groups and per-channel `w`, `b` of shape [C]. */
export function groupNorm(x: Tensor, groups: number, w: Tensor, b: Tensor, eps = 1e-5): Tensor {
  if (x.ndim !== 3) throw new Error(`group_norm: expected x of shape [B, C, T], got ${fmt(x.shape)}`);
  const [B, C, T] = x.shape as [number, number, number];
  if (C % groups !== 0) throw new Error(`group_norm: ${C} channels do not split into ${groups} groups`);
  const n = layerNorm(x.reshape([B * groups, (C / groups) * T]), null, null, eps).reshape([B, C, T]);
  const scaled = mul(n, w.reshape([C, 1]));
  const out = add(scaled, b.reshape([C, 1]));
  if (!out.requiresGrad) {
    n.dispose();
    scaled.dispose();
  }
  return out;
}

/**
 * `act(group_norm(x, C, w, b)).transpose(1, 2)`: group norm with one channel per group over
 * x [B, C, T], its affine and an optional GELU, returned channels last [B, T, C]. One pass
 * (`layer_norm.wgsl`'s `group_cl`) where the composition takes five (norm, scale, shift,
 * transpose, GELU), and one for the backward (`group_cl_backward`) where the composition's
 * take eight: WavLM's first conv layer, 512 × T/5 values, where the passes are what cost. With
 * `length`, x is [B, C, W] and only the first `length` steps of each row count (a product whose
 * rows were padded to W, read without slicing them out first; dx is 0 in the padding).
 */
export function groupNormChannelsLast(x: Tensor, w: Tensor, b: Tensor, opts: { activation?: 'gelu' | null; eps?: number; length?: number } = {}): Tensor {
  const eps = opts.eps ?? 1e-5;
  expectDType('group_norm', 'f32', x, w, b);
  if (x.ndim !== 3) throw new Error(`group_norm: expected x of shape [B, C, T], got ${fmt(x.shape)}`);
  const [B, C, W] = x.shape as [number, number, number];
  const T = opts.length ?? W;
  if (!Number.isInteger(T) || T < 1 || T > W) throw new Error(`group_norm: length ${T} must be an integer from 1 to the rows' ${W} steps`);
  if (w.size !== C || b.size !== C) throw new Error(`group_norm: weight ${fmt(w.shape)} and bias ${fmt(b.shape)} must have one value per channel (${C})`);
  const ACT = opts.activation === 'gelu' ? 1 : 0;
  const params = [B, C, T, f32(eps), W];
  const y = new Tensor([B, T, C], 'f32');
  const stats = new Tensor([B * C, 2], 'f32');
  launch1d(kernel('layer_norm'), B * C, [x.buffer, w.buffer, b.buffer, y.buffer, stats.buffer], params, { ACT }, 'group_cl', 300 * B * C * T);
  const out = record('group_norm', y, [x, w, b], (g) => {
    const dx = new Tensor(x.shape, 'f32');
    const dwRows = new Tensor([B, C], 'f32');
    const dbRows = new Tensor([B, C], 'f32');
    launch1d(kernel('layer_norm'), B * C, [x.buffer, w.buffer, b.buffer, null, null, g.buffer, stats.buffer, dx.buffer, dwRows.buffer, dbRows.buffer],
      params, { ACT }, 'group_cl_backward', 500 * B * C * T);
    const dw = sumTo(dwRows, [1, C]).reshape(w.shape);
    const db = sumTo(dbRows, [1, C]).reshape(b.shape);
    dwRows.dispose();
    dbRows.dispose();
    return [dx, dw, db];
  });
  if (!out.requiresGrad) stats.dispose();
  return out;
}
