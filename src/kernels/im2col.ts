/**
 * conv1d — `F.conv1d(x, w, b, stride, padding, groups=G)` for x [B, Cin, T], w [Cout, Cin/G, K],
 * composed as im2col (`wgsl/im2col.wgsl`) + one batched matmul over the groups:
 *   cols [G, Cg·K, B·Tout] = im2col(x);  y' [G, Cout/G, B·Tout] = w' · cols;  y = permute(y') + b
 * The im2col backward (col2im) gathers, so it is deterministic. Gradients of w and x come from
 * the matmul's backward. Tout = floor((T + 2·pad − K) / stride) + 1.
 * @module
 */
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { matmul } from './matmul.js';
import { permute, narrow, concat } from './copy.js';
import { deviceInfo } from '../tensor/device.js';
import { add } from './binary.js';
import { kernel } from './registry.js';

/** Convolution options (PyTorch names). */
export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  groups?: number;
}

/** Unfolds x [B, Cin, T] into [G, (Cin/G)·K, width] (width ≥ B·Tout, default B·Tout; extra columns are 0). */
export function im2col(x: Tensor, K: number, stride: number, pad: number, groups: number, width?: number): Tensor {
  const [B, Cin, T] = x.shape as [number, number, number];
  const Tout = Math.floor((T + 2 * pad - K) / stride) + 1;
  const Cg = Cin / groups;
  const W = width ?? B * Tout;
  if (W < B * Tout) throw new Error(`im2col: width ${W} is less than B·Tout = ${B * Tout}`);
  const cols = new Tensor([groups, Cg * K, W], 'f32');
  const params = [B, Cin, T, Tout, K, stride, pad, groups, W];
  launch1d(kernel('im2col'), Cin * K * B * Math.ceil(Tout / 8), [x.buffer, cols.buffer], params, undefined, undefined, 100 * cols.size); // runs of 8 along t
  return record('im2col', cols, [x], (g) => {
    const dx = new Tensor(x.shape, 'f32');
    launch1d(kernel('im2col'), dx.size, [g.buffer, dx.buffer], params, undefined, 'backward');
    return [dx];
  });
}

/** 1-D convolution (cross-correlation, as PyTorch). */
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const { stride = 1, padding = 0, groups = 1 } = opts;
  expectDType('conv1d', 'f32', x, w);
  if (x.ndim !== 3 || w.ndim !== 3) throw new Error(`conv1d: expected x [B, Cin, T] and w [Cout, Cin/groups, K], got ${fmt(x.shape)} and ${fmt(w.shape)}`);
  const [B, Cin, T] = x.shape as [number, number, number];
  const [Cout, Cg, K] = w.shape as [number, number, number];
  if (Cin % groups || Cout % groups || Cg * groups !== Cin) {
    throw new Error(`conv1d: weight ${fmt(w.shape)} does not fit input ${fmt(x.shape)} with groups=${groups} (need Cin/groups = ${Cin / groups})`);
  }
  const Tout = Math.floor((T + 2 * padding - K) / stride) + 1;
  if (Tout < 1) throw new Error(`conv1d: input length ${T} is shorter than the kernel ${K} (padding ${padding})`);
  // The im2col matrix must fit one storage binding: otherwise convolve group by group (groups
  // are independent), and then item by item — same result, smaller pieces.
  const limit = deviceInfo().limits.maxStorageBufferBindingSize;
  if (Cg * K * B * Tout * groups * 4 > limit) {
    if (groups > 1) {
      const parts = Array.from({ length: groups }, (_, g) =>
        conv1d(narrow(x, 1, g * Cg, Cg), narrow(w, 0, (g * Cout) / groups, Cout / groups), null, { stride, padding, groups: 1 }));
      const y = concat(parts, 1);
      return b ? add(y, b.reshape([Cout, 1])) : y;
    }
    if (B > 1) {
      const y = concat(Array.from({ length: B }, (_, i) => conv1d(narrow(x, 0, i, 1), w, null, { stride, padding })), 0);
      return b ? add(y, b.reshape([Cout, 1])) : y;
    }
  }
  // On CPU adapters the subgroup matmul wants N % 4 = 0: the columns come out padded to it, so
  // the matmul does not copy them again to pad them (the largest tensors of WavLM's conv stack).
  const BT = B * Tout;
  const W = deviceInfo().isCpu && BT % 4 ? BT + 4 - (BT % 4) : BT;
  const cols = im2col(x, K, stride, padding, groups, W);
  const wg = w.reshape([groups, Cout / groups, Cg * K]);
  const yw = matmul(wg, cols); // [G, Cout/G, W]
  const yg = W > BT ? narrow(yw, 2, 0, BT) : yw; // [G, Cout/G, B·Tout]
  const view = yg.reshape([Cout, B, Tout]);
  const y = permute(view, [1, 0, 2]);
  // Freed now rather than at the end of the step: no backward reads the product, its slice or
  // the permuted copy (matmul's needs its inputs, narrow's, permute's and add's no data). The
  // columns stay while a gradient will need them (dW = dY·colsᵀ).
  view.dispose();
  yg.dispose();
  yw.dispose();
  if (!y.requiresGrad) cols.dispose();
  if (!b) return y;
  const out = add(y, b.reshape([Cout, 1]));
  y.dispose();
  return out;
}
