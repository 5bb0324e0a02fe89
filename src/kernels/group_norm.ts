/**
 * group_norm — `F.group_norm(x, G, w, b, eps)` for x [B, C, T], composed: normalize each
 * (batch, group) block with the layer_norm kernel (no affine), then the per-channel affine with
 * broadcasting ops. Gradients come from those ops.
 * @module
 */
import { Tensor, fmt } from '../tensor/tensor.js';
import { layerNorm } from './layer_norm.js';
import { add, mul } from './binary.js';

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
