/**
 * reduce — sum, mean, max and argmax over any axes, with `keepdim` (`wgsl/reduce.wgsl`).
 * The input is viewed as [outer, R, inner] and R is reduced, one invocation per output element.
 * Several axes reduce one after another. Backward: sum/mean broadcast the gradient back (a
 * strided copy); max sends it to the arg-max position (torch's rule for `max(dim)`).
 * `broadcastTo` lives here too: it and `sumTo` are each other's backward.
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, stridesOf } from '../tensor/shape.js';
import { axisOf, expectDType, launch1d } from './util.js';
import { copyInto } from './copy.js';
import { scale } from './unary.js';
import { kernel } from './registry.js';

function split(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

function axesOf(op: string, x: Tensor, axis?: number | number[]): number[] {
  if (axis === undefined) return x.shape.map((_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => axisOf(op, a, x.ndim, x.shape)))].sort((p, q) => q - p);
}

/** Reduces one axis, keeping it as size 1. */
function reduceAxis(op: 'sum' | 'mean' | 'max', x: Tensor, axis: number): Tensor {
  const [outer, R, inner] = split(x.shape, axis);
  const shape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const out = new Tensor(shape, 'f32');
  const scaleBy = op === 'mean' ? 1 / R : 1;
  launch1d(kernel('reduce'), outer * inner, [x.buffer, out.buffer], [outer, R, inner, f32(scaleBy)], { OP: op === 'max' ? 1 : 0 });
  if (op === 'max') {
    const idx = argmaxAxis(x, axis);
    return record('max', out, [x], (g) => {
      const dx = new Tensor(x.shape, 'f32');
      launch1d(kernel('reduce'), x.size, [idx.buffer, g.buffer, dx.buffer], [outer, R, inner, f32(1)], undefined, 'max_backward');
      return [dx];
    });
  }
  return record(op, out, [x], (g) => {
    const b = broadcastTo(g, x.shape);
    if (scaleBy === 1) return [b];
    const s = scale(b, scaleBy);
    b.dispose();
    return [s];
  });
}

function argmaxAxis(x: Tensor, axis: number): Tensor {
  const [outer, R, inner] = split(x.shape, axis);
  const out = new Tensor(x.shape.map((d, i) => (i === axis ? 1 : d)), 'i32');
  launch1d(kernel('reduce'), outer * inner, [x.buffer, out.buffer], [outer, R, inner, f32(1)], undefined, 'argmax');
  return out;
}

function reduce(op: 'sum' | 'mean' | 'max', x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  expectDType(op, 'f32', x);
  const axes = axesOf(op, x, axis);
  for (const a of axes) if (x.shape[a] === 0) throw new Error(`${op}: cannot reduce an empty axis ${a} of ${fmt(x.shape)}`);
  let t = x;
  for (const a of axes) {
    const next = reduceAxis(op, t, a);
    if (t !== x) t.dispose();
    t = next;
  }
  if (t === x) return x.reshape(x.shape);
  if (keepdim) return t;
  const shape = x.shape.filter((_, i) => !axes.includes(i));
  return t.reshape(shape);
}

/** Sum over `axis` (all axes when omitted). */
export const sum = (x: Tensor, axis?: number | number[], keepdim = false): Tensor => reduce('sum', x, axis, keepdim);
/** Mean over `axis` (all axes when omitted). */
export const mean = (x: Tensor, axis?: number | number[], keepdim = false): Tensor => reduce('mean', x, axis, keepdim);
/** Max over `axis` (all axes when omitted); the gradient goes to the first arg-max. */
export const max = (x: Tensor, axis?: number | number[], keepdim = false): Tensor => reduce('max', x, axis, keepdim);

/** Index of the largest value along `axis` (i32; first one on ties). */
export function argmax(x: Tensor, axis = -1, keepdim = false): Tensor {
  expectDType('argmax', 'f32', x);
  const a = axisOf('argmax', axis, x.ndim, x.shape);
  const idx = argmaxAxis(x, a);
  return keepdim ? idx : idx.reshape(x.shape.filter((_, i) => i !== a));
}

/**
 * Sums `t` down to `shape` (the reverse of broadcasting), for gradients of broadcast inputs.
 * Returns `t` itself when the shapes already match; otherwise frees `t` if `consume`.
 */
export function sumTo(t: Tensor, shape: readonly number[], consume = true): Tensor {
  if (fmt(t.shape) === fmt(shape)) return t;
  const lead = t.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.ndim; i++) if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? sum(t, axes, true) : t;
  const r = s.reshape(shape);
  if (s !== t) s.dispose();
  if (consume) t.dispose();
  return r;
}

/** Expands size-1 (or missing leading) dimensions to `shape`. Copies. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (fmt(target) !== fmt(shape)) throw new Error(`broadcastTo: ${fmt(x.shape)} cannot be expanded to ${fmt(shape)}`);
  const out = new Tensor(shape, x.dtype);
  copyInto('broadcastTo', x, out, { shape, ss: broadcastStrides(x.shape, shape), ds: stridesOf(shape) });
  return record('broadcastTo', out, [x], (g) => [sumTo(g, x.shape, false)]);
}
