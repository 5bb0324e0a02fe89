/**
 * Tensors: a shape, a dtype and a GPU buffer, plus the autograd tape.
 *
 * Every tensor is contiguous (row-major). `reshape` is a view (it shares the buffer); `transpose`,
 * `permute`, `slice`, `concat`, `pad` and `broadcastTo` make copies with one strided-copy kernel
 * (`src/kernels/copy.ts`). Matmul reads transposed operands in place through flags instead.
 * @module
 */
import { initDevice, gpuDevice, hasDevice } from './device.js';
import { acquireBuffer, releaseBuffer } from './pool.js';
import { commandEncoder, flush, hasPending, beforeWait, countUpload, countRead, currentScope, profileScope } from './runtime.js';
import { numel, fmt } from './shape.js';
import { Rng } from './rng.js';

/** Element types: f32 for values, i32/u32 for indices, labels and masks. */
export type DType = 'f32' | 'i32' | 'u32';
/** The host array type of a dtype. */
export type HostArray = Float32Array | Int32Array | Uint32Array;

/** A buffer shared by a tensor and its reshape views; freed when the last one is disposed. */
interface Storage {
  buffer: GPUBuffer;
  refs: number;
}

/** How a tensor was computed: its inputs and the rule that maps its gradient to theirs. */
export interface GradNode {
  /** Kernel stem of the op, shown in errors and debug output. */
  op: string;
  inputs: Tensor[];
  /** Gradient w.r.t. each input (null where an input needs none). */
  backward: (grad: Tensor) => Array<Tensor | null>;
  /** The profile scope the op ran in; its backward is attributed to `<scope> (backward)`. */
  scope?: string;
}

let gradEnabled = true;
let nextId = 1;

export { numel, fmt } from './shape.js';
export { Rng } from './rng.js';

/** An n-dimensional array on the GPU. */
export class Tensor {
  /** Unique id, for debugging and as a stable map key. */
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor. Set it on leaves (parameters) before using them. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after {@link backward}. */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves and under {@link noGrad}). */
  node: GradNode | null = null;
  /** Optional name (parameters carry their Hugging Face name here). */
  name = '';
  /** A host copy of the data, kept for small index tensors made from host arrays. */
  host: HostArray | null = null;
  private storage: Storage | null;

  /** @internal Use the creation functions ({@link fromArray}, {@link zeros}, …) instead. */
  constructor(shape: readonly number[], dtype: DType, storage?: Storage) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape ${fmt(shape)}: dimensions must be non-negative integers`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    if (storage) {
      storage.refs++;
      this.storage = storage;
    } else {
      this.storage = { buffer: acquireBuffer(Math.max(4, this.size * 4)), refs: 1 };
    }
    track(this);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The GPU buffer; throws if the tensor was disposed. */
  get buffer(): GPUBuffer {
    return this.live().buffer;
  }

  private live(): Storage {
    if (!this.storage) throw new Error(`tensor #${this.id}${this.name ? ` (${this.name})` : ''} ${fmt(this.shape)} was used after dispose()`);
    return this.storage;
  }

  /** True after {@link Tensor.dispose}. */
  get disposed(): boolean {
    return this.storage === null;
  }

  /** Frees the buffer (back to the pool) once no view shares it. Safe to call twice. */
  dispose(): void {
    if (!this.storage) return;
    if (--this.storage.refs === 0) releaseBuffer(this.storage.buffer);
    this.storage = null;
    // The autograd node stays: a backward rule that needs no data of this tensor still works,
    // and one that does fails with the use-after-dispose error.
    this.host = null;
  }

  /** A view with another shape of the same size (shares the buffer; gradients flow). */
  reshape(shape: readonly number[]): Tensor {
    const s = [...shape];
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      const rest = numel(s.filter((_, i) => i !== neg));
      s[neg] = rest === 0 ? 0 : this.size / rest;
    }
    if (numel(s) !== this.size || !s.every(Number.isInteger)) {
      throw new Error(`reshape: cannot view ${fmt(this.shape)} (${this.size} elements) as ${fmt(shape)}`);
    }
    const out = new Tensor(s, this.dtype, this.live());
    const src = this.shape;
    return record('reshape', out, [this], (g) => [g.reshape(src)]);
  }

  /** A tensor sharing this one's data with no gradient history. */
  detach(): Tensor {
    return new Tensor(this.shape, this.dtype, this.live());
  }

  /** Copies the data to the host. Submits pending GPU work first. */
  async toArray(): Promise<HostArray> {
    const bytes = this.size * 4;
    const Ctor = this.dtype === 'f32' ? Float32Array : this.dtype === 'i32' ? Int32Array : Uint32Array;
    if (bytes === 0) return new Ctor(0);
    const device = gpuDevice();
    const staging = device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: 0x0001 /* MAP_READ */ | 0x0008, label: 'readback' });
    countRead(bytes);
    commandEncoder().copyBufferToBuffer(this.buffer, 0, staging, 0, bytes);
    flush();
    const done = await beforeWait();
    await staging.mapAsync(0x0001 /* READ */);
    done();
    const out = new Ctor(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    flush(); // surfaces any error reported meanwhile
    return out;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor has shape ${fmt(this.shape)}, not one element`);
    return (await this.toArray())[0]!;
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.name ? `, ${this.name}` : ''})`;
  }
}

/**
 * Copies many tensors to the host with one submit and one wait (each {@link Tensor.toArray} waits
 * on its own): all of them are copied into one staging buffer, mapped once and sliced. What a
 * checkpoint save does with every parameter.
 */
export async function readAll(ts: readonly Tensor[]): Promise<HostArray[]> {
  const offsets: number[] = [];
  let total = 0;
  for (const t of ts) {
    offsets.push(total);
    total += Math.ceil((t.size * 4) / 8) * 8; // copy offsets must stay 4-byte aligned; 8 keeps every slice aligned
  }
  if (total === 0) return ts.map((t) => (t.dtype === 'f32' ? new Float32Array(0) : t.dtype === 'i32' ? new Int32Array(0) : new Uint32Array(0)));
  const device = gpuDevice();
  const staging = device.createBuffer({ size: total, usage: 0x0001 /* MAP_READ */ | 0x0008, label: 'readback-many' });
  countRead(total);
  const enc = commandEncoder();
  ts.forEach((t, i) => {
    if (t.size) enc.copyBufferToBuffer(t.buffer, 0, staging, offsets[i]!, t.size * 4);
  });
  flush();
  const done = await beforeWait();
  await staging.mapAsync(0x0001 /* READ */);
  done();
  const all = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  flush();
  return ts.map((t, i) => {
    const Ctor = t.dtype === 'f32' ? Float32Array : t.dtype === 'i32' ? Int32Array : Uint32Array;
    return new Ctor(all, offsets[i]!, t.size);
  });
}

// ---------------------------------------------------------------------------------------------
// Scopes: tidy() frees every tensor created inside except what it returns and what was kept.

const scopes: Array<Set<Tensor>> = [];

function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes tensors from the enclosing scopes so {@link tidy} will not free them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

type Tensors = Tensor | Tensor[] | Record<string, Tensor> | void | undefined | number;

function collect(r: unknown, into: Set<Tensor>): void {
  if (r instanceof Tensor) into.add(r);
  else if (Array.isArray(r)) for (const x of r) collect(x, into);
  else if (r && typeof r === 'object' && !(r instanceof Promise)) for (const x of Object.values(r)) collect(x, into);
}

/**
 * Runs `fn` and frees every tensor it created, except those it returns (directly, in an array
 * or in an object) and those passed to {@link keep}. A training step inside `tidy` runs in
 * flat memory. `fn` must be synchronous; use {@link scope} for async code.
 */
export function tidy<T extends Tensors>(fn: () => T): T {
  const s = new Set<Tensor>();
  scopes.push(s);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  finishScope(s, result!);
  return result!;
}

/** Async version of {@link tidy}; tensors created by concurrent code also land in this scope. */
export async function scope<T>(fn: () => Promise<T>): Promise<T> {
  const s = new Set<Tensor>();
  scopes.push(s);
  let result: T;
  try {
    result = await fn();
  } finally {
    const i = scopes.lastIndexOf(s);
    if (i >= 0) scopes.splice(i, 1);
  }
  finishScope(s, result!);
  return result!;
}

function finishScope(s: Set<Tensor>, result: unknown): void {
  const out = new Set<Tensor>();
  collect(result, out);
  for (const t of s) if (!out.has(t) && !isLeafGrad(t)) t.dispose();
  for (const t of out) track(t);
}

const leafGrads = new WeakSet<Tensor>();
function isLeafGrad(t: Tensor): boolean {
  return leafGrads.has(t);
}

// ---------------------------------------------------------------------------------------------
// Autograd

/** Runs `fn` without recording gradients (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True while gradients are being recorded. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Attaches the backward rule of op `op` to `out` when any input requires grad. Every op calls
 * this right after its forward kernel, so the rule sits next to the forward in the op's file.
 */
export function record(op: string, out: Tensor, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    const scope = currentScope();
    out.node = scope ? { op, inputs, backward, scope } : { op, inputs, backward };
  }
  return out;
}

/**
 * The three ops the tape walker needs, passed in by the caller ({@link backward} in
 * `src/kernels/autograd.ts`) so this file needs no kernel: the tape lives under the kernels, and
 * the kernels record onto it.
 */
export interface GradOps {
  /** Sums two gradients that meet at one tensor. */
  add: (a: Tensor, b: Tensor) => Tensor;
  /** The seed of a backward pass with no explicit gradient. */
  ones: (shape: readonly number[]) => Tensor;
  /** A copy, so a leaf's `.grad` never aliases a caller's tensor. */
  clone: (t: Tensor) => Tensor;
}

/**
 * @internal Reverse-mode autodiff from `root` with the given ops; use `backward` from the ops.
 * Gradients accumulate into `.grad` of every leaf with `requiresGrad`; intermediate gradients are
 * freed as soon as they have been propagated.
 */
export function runBackward(root: Tensor, seed: Tensor | undefined, ops: GradOps): void {
  if (!root.requiresGrad) throw new Error('backward(): this tensor does not require grad (no parameter with requiresGrad took part)');
  // Topological order of the nodes that need a gradient.
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    if (i === 0) {
      if (seen.has(t)) {
        stack.pop();
        continue;
      }
      seen.add(t);
    }
    const ins = t.node?.inputs ?? [];
    if (i < ins.length) {
      top[1]++;
      const c = ins[i]!;
      if (c.requiresGrad && !seen.has(c)) stack.push([c, 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  const grads = new Map<Tensor, Tensor>();
  if (seed && fmt(seed.shape) !== fmt(root.shape)) throw new Error(`backward(): gradient ${fmt(seed.shape)} does not match tensor ${fmt(root.shape)}`);
  grads.set(root, seed ?? ops.ones(root.shape));
  const noGradPrev = gradEnabled;
  gradEnabled = false; // gradients of gradients are not recorded
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        // A leaf: accumulate into .grad.
        if (t.grad) {
          const sum = ops.add(t.grad, g);
          leafGrads.delete(t.grad);
          t.grad.dispose();
          if (g !== seed) g.dispose();
          t.grad = sum;
        } else {
          t.grad = g === seed ? ops.clone(g) : g;
        }
        leafGrads.add(t.grad);
        keep(t.grad);
        continue;
      }
      const node = t.node;
      const gin = node.scope ? profileScope(`${node.scope} (backward)`, () => node.backward(g)) : node.backward(g);
      t.node.inputs.forEach((inp, i) => {
        const gi = gin[i];
        if (!gi || !inp.requiresGrad) {
          if (gi && gi !== g) gi.dispose();
          return;
        }
        if (fmt(gi.shape) !== fmt(inp.shape)) {
          throw new Error(`autograd: op ${t.node!.op} returned a gradient ${fmt(gi.shape)} for input ${i} of shape ${fmt(inp.shape)}`);
        }
        const prev = grads.get(inp);
        if (prev) {
          grads.set(inp, ops.add(prev, gi));
          prev.dispose();
          if (gi !== g) gi.dispose();
        } else grads.set(inp, gi === g ? g.reshape(g.shape) : gi);
      });
      if (g !== seed) g.dispose();
    }
  } finally {
    gradEnabled = noGradPrev;
  }
}

// ---------------------------------------------------------------------------------------------
// Creation (constants — zeros, ones, full, arange — are the fill kernel's, in src/kernels/fill.ts)

/** @internal Throws unless the device exists, with the call that creates it. */
export function ensureDevice(): void {
  if (!hasDevice()) throw new Error('crab-ser: the GPU device is not initialised; call `await initDevice()` first');
}

/** A tensor from host data (numbers, nested arrays or a typed array). Uploads immediately. */
export function fromArray(data: ArrayLike<number> | number[][] | number[][][], shape?: readonly number[], dtype: DType = 'f32'): Tensor {
  ensureDevice();
  const flat = flatten(data);
  const s = shape ?? inferShape(data);
  if (numel(s) !== flat.length) throw new Error(`fromArray: ${flat.length} values do not fill shape ${fmt(s)}`);
  const Ctor = dtype === 'f32' ? Float32Array : dtype === 'i32' ? Int32Array : Uint32Array;
  const host = flat instanceof Ctor ? flat : Ctor.from(flat as ArrayLike<number>);
  const t = new Tensor(s, dtype);
  upload(t, host);
  if (dtype !== 'f32' && t.size <= 1 << 20) t.host = host;
  return t;
}

/** Writes host data into a tensor's buffer (keeps order with recorded GPU work). */
export function upload(t: Tensor, data: HostArray): void {
  if (data.length !== t.size) throw new Error(`upload: ${data.length} values for tensor ${fmt(t.shape)}`);
  // queue.writeBuffer runs before commands that are recorded but not yet submitted; submit them
  // first so a pooled buffer reused here is not overwritten under a pending reader.
  if (hasPending()) flush();
  if (data.byteLength) {
    countUpload(data.byteLength);
    gpuDevice().queue.writeBuffer(t.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
}

function flatten(data: unknown): ArrayLike<number> {
  if (ArrayBuffer.isView(data)) return data as unknown as ArrayLike<number>;
  if (Array.isArray(data) && data.length && Array.isArray(data[0])) return (data as unknown[]).flatMap((d) => Array.from(flatten(d)));
  return data as ArrayLike<number>;
}

function inferShape(data: unknown): number[] {
  const s: number[] = [];
  let d: unknown = data;
  while (Array.isArray(d)) {
    s.push(d.length);
    d = d[0];
  }
  if (s.length === 0 && ArrayBuffer.isView(data)) s.push((data as unknown as ArrayLike<number>).length);
  return s;
}

/** Uniform values in [lo, hi) from a seeded generator (generated on the host, so runs repeat exactly). */
export function rand(shape: readonly number[], seed: number | Rng, lo = 0, hi = 1): Tensor {
  const g = typeof seed === 'number' ? new Rng(seed) : seed;
  const a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * g.next();
  return fromArray(a, shape);
}

/** Normal values with the given std from a seeded generator. */
export function randn(shape: readonly number[], seed: number | Rng, std = 1): Tensor {
  const g = typeof seed === 'number' ? new Rng(seed) : seed;
  const a = new Float32Array(numel(shape));
  for (let i = 0; i < a.length; i++) a[i] = std * g.normal();
  return fromArray(a, shape);
}

/** Creates the device if needed; the first call of any program. */
export async function ready(): Promise<void> {
  await initDevice();
}
