/**
 * `backward(loss)`: the tape walker of `src/tensor/tensor.ts` with the three ops it needs (add
 * to sum gradients that meet, ones for the seed, clone for a leaf's first gradient). The walker
 * sits under the kernels and gets them here as arguments, so nothing is wired at import time.
 * @module
 */
import { runBackward, type Tensor } from '../tensor/tensor.js';
import { add } from './binary.js';
import { clone } from './copy.js';
import { ones } from './fill.js';

/**
 * Reverse-mode autodiff from `loss` (PyTorch's `loss.backward(grad)`). `grad` defaults to ones (a
 * scalar loss gives 1). Gradients accumulate into `.grad` of every leaf with `requiresGrad`;
 * intermediate gradients are freed as soon as they have been propagated.
 */
export function backward(loss: Tensor, grad?: Tensor): void {
  runBackward(loss, grad, { add, ones: (shape) => ones(shape), clone });
}
