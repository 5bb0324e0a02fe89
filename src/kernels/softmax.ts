/**
 * softmax / log_softmax over the last axis (`wgsl/softmax.wgsl`). Masked entries are −∞ in the
 * input (use {@link maskedFill}); a fully masked row gives zeros and zero gradient, never NaN.
 * Backward from the saved output: softmax dx = y(dy − Σ dy·y); log_softmax dx = dy − eʸ Σ dy.
 * PyTorch: `torch.softmax(x, -1)`, `torch.log_softmax(x, -1)`.
 * @module
 */
import { Tensor, record } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { kernel } from './registry.js';

function run(x: Tensor, log: boolean): Tensor {
  const op = log ? 'log_softmax' : 'softmax';
  expectDType(op, 'f32', x);
  if (x.ndim === 0) throw new Error(`${op}: needs at least one dimension`);
  const L = x.shape.at(-1)!;
  const rows = L === 0 ? 0 : x.size / L;
  const y = new Tensor(x.shape, 'f32');
  const v4 = L % 4 === 0; // rows of whole vec4s: main4 / backward4
  launch1d(kernel('softmax'), rows, [x.buffer, y.buffer], [rows, L], { LOG: log ? 1 : 0 }, v4 ? 'main4' : undefined, (v4 ? 100 : 300) * x.size); // work: the vec4 rows take about a third of the time
  return record(op, y, [x], (g) => {
    const dx = new Tensor(x.shape, 'f32');
    launch1d(kernel('softmax'), rows, [y.buffer, g.buffer, dx.buffer], [rows, L], { LOG: log ? 1 : 0 }, v4 ? 'backward4' : 'backward', (v4 ? 100 : 300) * x.size);
    return [dx];
  });
}

/** Softmax over the last axis. */
export const softmax = (x: Tensor): Tensor => run(x, false);
/** Log-softmax over the last axis. */
export const logSoftmax = (x: Tensor): Tensor => run(x, true);
