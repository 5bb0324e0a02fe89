/**
 * copy — one strided-copy kernel (`wgsl/copy.wgsl`) behind permute/transpose, slice, pad,
 * concat and clone, and under `broadcastTo` (in reduce.ts, beside its adjoint `sumTo`). All of
 * these return new contiguous tensors (copies); only `Tensor.reshape` is a view. Backward rules
 * pair them up: permute ↔ inverse permute, slice ↔ pad, concat ↔ slices.
 * @module
 */
import { f32 } from '../tensor/runtime.js';
import { Tensor, record, fmt } from '../tensor/tensor.js';
import { stridesOf } from '../tensor/shape.js';
import { axisOf, dims8, launch1d, runLength } from './util.js';
import { kernel } from './registry.js';

/** A strided copy: the index space `shape`, read with strides `ss` and written with strides `ds` (optionally padded between `lo` and `hi`). */
export interface CopySpec {
  shape: readonly number[];
  ss: readonly number[];
  ds: readonly number[];
  srcOff?: number;
  dstOff?: number;
  lo?: readonly number[];
  hi?: readonly number[];
  padValue?: number;
}

/** Launches the copy kernel: `dst` ← `src` through `spec` (no autograd record). */
export function copyInto(op: string, src: Tensor, dst: Tensor, spec: CopySpec): void {
  // A scalar is a 1-element row.
  const c = spec.shape.length ? spec : { ...spec, shape: [1], ss: [0], ds: [0] };
  let n = 1;
  for (const d of c.shape) n *= d;
  const pad = c.lo ? 1 : 0;
  const pv = c.padValue ?? 0;
  // A run of the last dimension per invocation (see runLength).
  const L = c.shape.at(-1)!;
  const run = runLength(L);
  const runs = Math.ceil(L / run);
  launch1d(kernel('copy'), L ? (n / L) * runs : 0, [src.buffer, dst.buffer], [
    n, c.shape.length, c.srcOff ?? 0, c.dstOff ?? 0,
    src.dtype === 'f32' ? f32(pv) : pv >>> 0, pad, run, runs,
    ...dims8(op, c.shape), ...dims8(op, c.ss), ...dims8(op, c.ds),
    ...dims8(op, c.lo ?? []), ...dims8(op, c.hi ?? []),
  ], undefined, undefined, 100 * n);
}

/** Reorders dimensions: `out.shape[i] = x.shape[perm[i]]` (like `torch.permute`). Copies, unless only dimensions of size 1 move (then a view). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.ndim || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`permute: ${fmt(perm)} is not a permutation of the ${x.ndim} dimensions of ${fmt(x.shape)}`);
  }
  const shape = perm.map((p) => x.shape[p]!);
  // Moving only dimensions of size 1 keeps the order of the elements: a view, no copy.
  const moved = perm.filter((p) => x.shape[p] !== 1);
  if (moved.every((p, i) => i === 0 || p > moved[i - 1]!)) return x.reshape(shape);
  const out = new Tensor(shape, x.dtype);
  const st = stridesOf(x.shape);
  copyInto('permute', x, out, { shape, ss: perm.map((p) => st[p]!), ds: stridesOf(shape) });
  const inv = perm.map((_, i) => perm.indexOf(i));
  return record('permute', out, [x], (g) => [permute(g, inv)]);
}

/** Swaps two dimensions (default: the last two). Copies; matmul takes transposed operands without this. */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = axisOf('transpose', d0, x.ndim, x.shape);
  const b = axisOf('transpose', d1, x.ndim, x.shape);
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

/** The block `begin[i] ≤ index < begin[i] + size[i]` of `x` (size −1 = to the end). Copies. */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.ndim || size.length !== x.ndim) throw new Error(`slice: begin ${fmt(begin)} and size ${fmt(size)} must have ${x.ndim} entries for ${fmt(x.shape)}`);
  const sz = size.map((s, i) => (s < 0 ? x.shape[i]! - begin[i]! : s));
  sz.forEach((s, i) => {
    if (begin[i]! < 0 || s < 0 || begin[i]! + s > x.shape[i]!) throw new Error(`slice: [${begin[i]}, ${begin[i]! + s}) is out of range for dimension ${i} of ${fmt(x.shape)}`);
  });
  const out = new Tensor(sz, x.dtype);
  const st = stridesOf(x.shape);
  const off = begin.reduce((acc, b, i) => acc + b * st[i]!, 0);
  copyInto('slice', x, out, { shape: sz, ss: st, ds: stridesOf(sz), srcOff: off });
  return record('slice', out, [x], (g) => [pad(g, begin, x.shape.map((d, i) => d - begin[i]! - sz[i]!))]);
}

/** Narrow along one axis: `x[..., start:start+length, ...]`. Copies. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = axisOf('narrow', axis, x.ndim, x.shape);
  return slice(x, x.shape.map((_, i) => (i === a ? start : 0)), x.shape.map((d, i) => (i === a ? length : d)));
}

/** Pads with `value`: `before[i]` entries in front of dimension i, `after[i]` behind. Copies. */
export function pad(x: Tensor, before: readonly number[], after: readonly number[], value = 0): Tensor {
  if (before.length !== x.ndim || after.length !== x.ndim) throw new Error(`pad: before ${fmt(before)} and after ${fmt(after)} must have ${x.ndim} entries for ${fmt(x.shape)}`);
  const shape = x.shape.map((d, i) => d + before[i]! + after[i]!);
  const out = new Tensor(shape, x.dtype);
  copyInto('pad', x, out, {
    shape, ss: stridesOf(x.shape), ds: stridesOf(shape), lo: before, hi: before.map((b, i) => b + x.shape[i]!), padValue: value,
  });
  return record('pad', out, [x], (g) => [slice(g, before, x.shape)]);
}

/** Joins tensors along `axis` (all other dimensions equal). */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors given');
  const first = xs[0]!;
  const a = axisOf('concat', axis, first.ndim, first.shape);
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i]) || t.dtype !== first.dtype) {
      throw new Error(`concat: ${fmt(t.shape)} ${t.dtype} does not match ${fmt(first.shape)} ${first.dtype} outside axis ${a}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((s, t) => s + t.shape[a]!, 0) : d));
  const out = new Tensor(shape, first.dtype);
  const ds = stridesOf(shape);
  let offset = 0;
  const starts: number[] = [];
  for (const t of xs) {
    starts.push(offset);
    copyInto('concat', t, out, { shape: t.shape, ss: stridesOf(t.shape), ds, dstOff: offset * ds[a]! });
    offset += t.shape[a]!;
  }
  return record('concat', out, [...xs], (g) => xs.map((t, i) => (t.requiresGrad ? narrow(g, a, starts[i]!, t.shape[a]!) : null)));
}

/** A contiguous copy (gradients flow). */
export function clone(x: Tensor): Tensor {
  const out = new Tensor(x.shape, x.dtype);
  copyInto('clone', x, out, { shape: [x.size], ss: [1], ds: [1] });
  return record('clone', out, [x], (g) => [clone(g)]);
}
