// The WebGPU peers, running on the same Dawn adapter in this process: TensorFlow.js's WebGPU
// backend and jax-js's WebGPU device. Both find the adapter through `navigator.gpu`.
import { gpuInstance } from '../src/tensor/device.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type TF = any;
export type Jax = any;

function exposeNavigator(): void {
  const gpu = gpuInstance();
  const nav = (globalThis as any).navigator;
  // jax-js reads navigator.userAgent to detect browsers; Node 20 has no navigator at all.
  if (!nav) Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `Node.js/${process.version}` }, configurable: true });
  else {
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    if (typeof nav.userAgent !== 'string') Object.defineProperty(nav, 'userAgent', { value: `Node.js/${process.version}`, configurable: true });
  }
}

/** TF.js with the WebGPU backend, or null (with the reason) when it cannot start. */
export async function loadTf(): Promise<{ tf: TF } | { error: string }> {
  try {
    exposeNavigator();
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await import('@tensorflow/tfjs-backend-webgpu');
    const ok = await tf.setBackend('webgpu');
    if (!ok) return { error: 'tf.setBackend("webgpu") failed' };
    await tf.ready();
    return { tf };
  } catch (e) {
    return { error: String((e as Error).message ?? e) };
  }
}

/**
 * jax-js uses ES2025 iterator helpers (`iter.map(...)`), which Node 20 lacks; add the few it
 * needs to the shared iterator prototype (bench only — the project itself does not use them).
 */
function iteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  const def = (name: string, fn: (...a: any[]) => unknown): void => {
    if (!(name in proto)) Object.defineProperty(proto, name, { value: fn, configurable: true, writable: true });
  };
  def('map', function* (this: Iterable<unknown>, f: (v: unknown, i: number) => unknown) { let i = 0; for (const v of this) yield f(v, i++); });
  def('filter', function* (this: Iterable<unknown>, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) yield v; });
  def('flatMap', function* (this: Iterable<unknown>, f: (v: unknown, i: number) => Iterable<unknown>) { let i = 0; for (const v of this) yield* f(v, i++); });
  def('toArray', function (this: Iterable<unknown>) { return [...this]; });
  def('forEach', function (this: Iterable<unknown>, f: (v: unknown, i: number) => void) { let i = 0; for (const v of this) f(v, i++); });
  def('some', function (this: Iterable<unknown>, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) return true; return false; });
  def('every', function (this: Iterable<unknown>, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (!f(v, i++)) return false; return true; });
  def('find', function (this: Iterable<unknown>, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of this) if (f(v, i++)) return v; return undefined; });
  def('reduce', function (this: Iterable<unknown>, f: (a: unknown, v: unknown) => unknown, init?: unknown) {
    let acc = init; let first = arguments.length < 2;
    for (const v of this) { if (first) { acc = v; first = false; } else acc = f(acc, v); }
    return acc;
  });
}

/** jax-js with its WebGPU device as default, or the reason it cannot start. */
export async function loadJax(): Promise<{ jax: Jax } | { error: string }> {
  try {
    exposeNavigator();
    iteratorHelpers();
    const jax = await import('@jax-js/jax');
    const devices = await jax.init();
    if (!devices.includes('webgpu')) return { error: `jax-js found no webgpu device (has ${devices.join(', ')})` };
    jax.defaultDevice('webgpu');
    return { jax };
  } catch (e) {
    return { error: String((e as Error).message ?? e) };
  }
}
