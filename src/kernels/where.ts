/**
 * where — `out = cond ≠ 0 ? a : b` (`wgsl/where.wgsl`); inputs are broadcast to a common shape
 * first. Backward: the gradient goes to `a` where cond holds, to `b` elsewhere.
 * @module
 */
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { broadcastShapes } from '../tensor/shape.js';
import { broadcastTo } from './reduce.js';
import { full } from './fill.js';
import { kernel } from './registry.js';

/** `cond ≠ 0 ? a : b` elementwise, with broadcasting. `cond` is a 0/1 float mask. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  expectDType('where', 'f32', cond, a, b);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const temps: Tensor[] = [];
  const expand = (t: Tensor): Tensor => {
    if (fmt(t.shape) === fmt(shape)) return t;
    const e = broadcastTo(t, shape);
    temps.push(e);
    return e;
  };
  const c = expand(cond);
  const ea = expand(a);
  const eb = expand(b);
  const out = new Tensor(shape, 'f32');
  launch1d(kernel('where'), out.size, [c.buffer, ea.buffer, eb.buffer, out.buffer], [out.size]);
  // The expanded inputs carry the gradient links; keep them alive for backward.
  const res = record('where', out, [ea, eb], (g) => {
    const z = full(shape, 0);
    const ga = ea.requiresGrad ? where(c, g, z) : null;
    const gb = eb.requiresGrad ? where(c, z, g) : null;
    z.dispose();
    return [ga, gb];
  });
  if (!res.requiresGrad) for (const t of temps) t.dispose();
  return res;
}

/** `x` where `mask` is 0, `value` where it is 1 (like `masked_fill`). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const v = full([1], value);
  const out = where(mask, v, x);
  if (!out.requiresGrad) v.dispose();
  return out;
}
