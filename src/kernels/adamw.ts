/**
 * adamw — one fused AdamW update (`wgsl/adamw.wgsl`), in place on the parameter and its two
 * moment buffers; PyTorch's `torch.optim.AdamW` arithmetic exactly (decoupled weight decay, bias
 * correction with eps added after it). The gradient is multiplied by a 1-element GPU tensor
 * `gscale`, so global-norm clipping never needs a readback. Not differentiable (an update).
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, fmt } from '../tensor/tensor.js';
import { launch1d, expectDType } from './util.js';
import { kernel } from './registry.js';

/** Hyper-parameters of one AdamW step. */
export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count (for the bias correction). */
  step: number;
}

/** Updates `p`, `m`, `v` in place from `grad`·`gscale`. */
export function adamwUpdate(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, gscale: Tensor, h: AdamWStep): void {
  expectDType('adamw', 'f32', p, grad, m, v, gscale);
  for (const t of [grad, m, v]) if (t.size !== p.size) throw new Error(`adamw: ${fmt(t.shape)} does not match parameter ${p.name || ''} ${fmt(p.shape)}`);
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  launch1d(kernel('adamw'), p.size, [p.buffer, grad.buffer, m.buffer, v.buffer, gscale.buffer], [
    p.size, f32(h.lr), f32(h.beta1), f32(h.beta2), f32(h.eps), f32(h.weightDecay), f32(bc1), f32(Math.sqrt(bc2)),
  ]);
}
