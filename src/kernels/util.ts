/**
 * Small helpers shared by the kernel wrappers: checks with clear messages, 1-D launches, row chunks.
 * @module
 */
import { Tensor, fmt, type DType } from '../tensor/tensor.js';
import { dispatch, grid, type Kernel, type Param, type Binding } from '../tensor/runtime.js';
import { deviceInfo } from '../tensor/device.js';

/** Throws unless every tensor has dtype `dtype`. */
export function expectDType(op: string, dtype: DType, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== dtype) throw new Error(`${op}: expected a ${dtype} tensor, got ${t.dtype} ${fmt(t.shape)}${t.name ? ` (${t.name})` : ''}`);
  }
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

/**
 * Elements of the last dimension per invocation for the strided kernels (copy, binary's
 * broadcasting path), which split the index into coordinates once per run. On a CPU adapter that
 * split's integer divisions, one scalar division per lane, are what cost: runs of 32 copy WavLM's
 * attention operands 1.5–2× faster than runs of 8. On a GPU, shorter runs keep neighbouring
 * invocations on neighbouring addresses.
 */
export function runLength(L: number): number {
  return Math.max(1, Math.min(deviceInfo().isCpu ? 32 : 8, L));
}

/** Launches a kernel with one invocation per element of an `n`-element index space. */
export function launch1d(k: Kernel, n: number, buffers: Binding[], params: Param[], constants?: Record<string, number>, entry?: string, work?: number): void {
  if (n === 0) return;
  dispatch(entry ? { ...k, entry } : k, { buffers, params, constants, workgroups: grid(n), work: work ?? 100 * n });
}

/**
 * Row chunks of a [rows, D] f32 tensor such that each chunk fits one storage binding and starts
 * at an aligned offset: [firstRow, rowCount, byteOffset, byteSize] per chunk (one chunk when the
 * whole tensor fits).
 */
export function rowChunks(rows: number, D: number, limit = deviceInfo().limits.maxStorageBufferBindingSize, align = deviceInfo().limits.minStorageBufferOffsetAlignment): Array<[number, number, number, number]> {
  const rowBytes = D * 4;
  if (rows * rowBytes <= limit) return [[0, rows, 0, Math.max(4, rows * rowBytes)]];
  // Rows per chunk: as many as fit, rounded down so every chunk offset stays aligned.
  let per = Math.floor(limit / rowBytes);
  const step = align / gcd(align, rowBytes);
  per -= per % step;
  if (per < 1) throw new Error(`a single row of ${rowBytes} bytes cannot be bound with alignment ${align}`);
  const out: Array<[number, number, number, number]> = [];
  for (let r = 0; r < rows; r += per) {
    const n = Math.min(per, rows - r);
    out.push([r, n, r * rowBytes, n * rowBytes]);
  }
  return out;
}
function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}
