/**
 * Small helpers shared by the kernel wrappers: checks with clear messages, strides, 1-D launches.
 * @module
 */
import { Tensor, fmt, type DType } from '../tensor/tensor.js';
import { dispatch, grid, type Kernel, type Param } from '../tensor/runtime.js';

/** Throws unless every tensor has dtype `dtype`. */
export function expectDType(op: string, dtype: DType, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== dtype) throw new Error(`${op}: expected a ${dtype} tensor, got ${t.dtype} ${fmt(t.shape)}${t.name ? ` (${t.name})` : ''}`);
  }
}

/** Contiguous (row-major) strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Normalizes a possibly negative axis, with an error naming the shape. */
export function axisOf(op: string, axis: number, ndim: number, shape: readonly number[]): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new Error(`${op}: axis ${axis} is out of range for shape ${fmt(shape)}`);
  return a;
}

/** Packs up to 8 dimensions into the two vec4 slots the kernels read (`array<vec4u, 2>`). */
export function dims8(op: string, v: readonly number[]): number[] {
  if (v.length > 8) throw new Error(`${op}: at most 8 dimensions are supported, got ${v.length}`);
  const o = [...v];
  while (o.length < 8) o.push(0);
  return o;
}

/** Launches a kernel with one invocation per element of an `n`-element index space. */
export function launch1d(k: Kernel, n: number, buffers: Array<GPUBuffer | null>, params: Param[], constants?: Record<string, number>, entry?: string, work?: number): void {
  if (n === 0) return;
  dispatch(entry ? { ...k, entry } : k, { buffers, params, constants, workgroups: grid(n), work: work ?? 100 * n });
}
