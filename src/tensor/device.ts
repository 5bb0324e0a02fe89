/**
 * The one GPU device of the process.
 *
 * Dawn's Node binding keeps Node alive while its `create()` object is referenced, and crashes if
 * that object is garbage-collected while work is pending. So it is held here, in one module-level
 * slot, for the device's whole life, and released once by {@link releaseDevice}. The binding is
 * loaded when the device is first created, so modules that only parse files or compute on the
 * host can be imported without it.
 * @module
 */

import { isNode, envVar, envDefault, warn } from './env.js';

/** Thrown when no WebGPU adapter can be found; its message says how to get one. */
export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(isNode
      ? `crab-ser: no WebGPU adapter found (${detail}).\n` +
        `  Fix: run \`bash scripts/setup-gpu.sh\` (as root on Debian/Ubuntu it installs Mesa's lavapipe,\n` +
        `  a software Vulkan driver; elsewhere it prints what to install). A real GPU needs its Vulkan driver.\n` +
        `  Also make sure XDG_RUNTIME_DIR points at a writable folder.`
      : `crab-ser: no WebGPU in this browser (${detail}). Use Chrome or Edge 113 or later; on Linux start Chromium with ` +
        `--enable-unsafe-webgpu --enable-features=Vulkan (or enable chrome://flags/#enable-unsafe-webgpu); Firefox: set dom.webgpu.enabled in about:config.`);
    this.name = 'NoAdapterError';
  }
}

/**
 * The WebGPU entry point: the page's `navigator.gpu` in a browser; under Node, Dawn through the
 * `webgpu` package, loaded only here (so nothing imports it at module load).
 */
async function gpuEntry(): Promise<GPU> {
  if (!isNode) {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new NoAdapterError('navigator.gpu is undefined');
    return gpu;
  }
  envDefault('XDG_RUNTIME_DIR', '/tmp');
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    throw new NoAdapterError(`the webgpu package could not be loaded: ${(e as Error).message}`);
  }
  Object.assign(globalThis, dawn.globals);
  return dawn.create([]) as GPU;
}

/** What the engine knows about the device it runs on. */
export interface DeviceInfo {
  /** Adapter description, e.g. `mesa llvmpipe` or `nvidia ...`. */
  name: string;
  /** True for software rasterizers (lavapipe / SwiftShader): kernel choices differ there. */
  isCpu: boolean;
  hasSubgroups: boolean;
  hasF16: boolean;
  hasTimestamps: boolean;
  /** Smallest and largest subgroup size the adapter reports (0 when unknown). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  limits: GPUSupportedLimits;
  /**
   * True when waits may spin freely: under Node on a CPU adapter, the JS thread was set to the
   * lowest scheduling priority after the adapter's worker threads started (see
   * `lowerWaitingThread` in device.ts), so Dawn's busy-wait only takes cycles the adapter leaves idle.
   */
  yieldingWaits: boolean;
}

interface Held {
  gpu: GPU;
  device: GPUDevice;
  info: DeviceInfo;
}

let held: Held | null = null;
let pending: Promise<Held> | null = null;
let lostReason: string | null = null;
const uncaptured: string[] = [];

/** Errors Dawn reported asynchronously; {@link throwPendingErrors} turns them into a JS error. */
export function throwPendingErrors(): void {
  if (lostReason) throw new Error(`crab-ser: the GPU device was lost: ${lostReason}`);
  if (uncaptured.length) {
    const all = uncaptured.splice(0);
    // Dawn follows a root error with a cascade of "… is invalid due to a previous error"; put
    // the root causes first and count the rest.
    const roots = all.filter((m) => !/invalid due to a previous error/.test(m));
    const msg = (roots.length ? roots : all).join('\n') + (roots.length && roots.length < all.length ? `\n(+${all.length - roots.length} follow-on errors)` : '');
    throw new Error(`crab-ser: WebGPU error:\n${msg}`);
  }
}

/** Creates (once) and returns the device. Requests the adapter's maximum limits and the optional features it has. */
export async function initDevice(): Promise<Held> {
  if (held) return held;
  if (pending) return pending;
  pending = (async () => {
    // A device opened again in this process starts new adapter threads, which inherit this
    // thread's priority: raise it back first (where allowed) so they do not start at nice 19.
    const raised = await restoreThreadPriority();
    const gpu = await gpuEntry();
    let adapter: GPUAdapter | null = null;
    try {
      adapter = await quietNativeStderr(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
    } catch (e) {
      throw new NoAdapterError(String(e));
    }
    if (!adapter) throw new NoAdapterError(isNode ? 'requestAdapter() returned null' : 'this browser offers WebGPU but no adapter (requestAdapter() returned null)');
    const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName, 'timestamp-query'];
    const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
    const requiredLimits: Record<string, number> = {};
    for (const key of [
      'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
      'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
    ] as const) {
      requiredLimits[key] = adapter.limits[key];
    }
    const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'crab-ser' });
    device.addEventListener('uncapturederror', (ev) => {
      uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
    void device.lost.then((info) => {
      if (held && info.reason !== 'destroyed') {
        lostReason = `${info.reason}: ${info.message}`;
        warn(`crab-ser: GPU device lost (${lostReason})`);
      }
    });
    const ai = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    const name = [ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ');
    const info: DeviceInfo = {
      name,
      isCpu: /llvmpipe|lavapipe|swiftshader/i.test(name),
      hasSubgroups: requiredFeatures.includes('subgroups' as GPUFeatureName),
      hasF16: requiredFeatures.includes('shader-f16'),
      hasTimestamps: requiredFeatures.includes('timestamp-query'),
      subgroupMinSize: ai.subgroupMinSize ?? 0,
      subgroupMaxSize: ai.subgroupMaxSize ?? 0,
      limits: device.limits,
      yieldingWaits: false,
    };
    if (info.isCpu && raised) info.yieldingWaits = await lowerWaitingThread();
    held = { gpu, device, info };
    return held;
  })();
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/**
 * Dawn's Node binding busy-spins the JS thread while a GPU promise is pending. On a CPU adapter
 * the "GPU" is worker threads on the same cores, so the spin takes a core from them: a wait
 * without precautions ran RoBERTa's forward 1.7× slower here. Setting this (main) thread to nice
 * 19 — on Linux a priority belongs to one thread, and the adapter's workers, already started,
 * keep theirs — lets the spin run only on cycles they leave idle. The workers of a software
 * adapter are created with the device, so this runs after `requestDevice`; a device opened again
 * first raises the priority back, so its new workers do not inherit nice 19. Raising it needs
 * privileges (root here); where it is refused the thread stays lowered, and so would new workers,
 * so waits go back to sleeping first. The priority only matters while the cores are contended.
 * Off with `CRAB_NO_NICE=1` (the runtime then sleeps through predicted GPU time instead, see
 * `beforeWait` in runtime.ts). Returns whether the priority was lowered.
 */
async function lowerWaitingThread(): Promise<boolean> {
  if (!isNode || envVar('CRAB_NO_NICE') === '1' || (globalThis as { process?: { platform?: string } }).process?.platform !== 'linux') return false;
  try {
    const os = await import('node:os');
    const st = priorityState(os.getPriority());
    os.setPriority(19);
    st.lowered = true;
    return true;
  } catch {
    return false;
  }
}

/**
 * The thread's priority before crab lowered it, kept on `globalThis` rather than in this module:
 * a module loaded again in the same process (a test runner isolating files) must still know the
 * thread was lowered.
 */
function priorityState(current: number): { base: number; lowered: boolean } {
  const g = globalThis as { [k: symbol]: { base: number; lowered: boolean } | undefined };
  const key = Symbol.for('crab-ser.thread-priority');
  return (g[key] ??= { base: current, lowered: false });
}

/** Before a device opens: puts a lowered thread back to its priority; false where that is refused. */
async function restoreThreadPriority(): Promise<boolean> {
  if (!isNode) return true;
  const os = await import('node:os');
  const st = priorityState(os.getPriority());
  if (!st.lowered) return true;
  try {
    os.setPriority(st.base);
    st.lowered = false;
    return true;
  } catch {
    return false; // still at nice 19, and so would the new workers be: waits sleep first instead
  }
}

/**
 * Runs `fn` with the process' native stderr pointed at /dev/null, unless `CRAB_DEBUG` is set.
 * Dawn logs warnings from C++ straight to file descriptor 2 when it opens an adapter (on
 * lavapipe: "maxDynamicUniformBuffersPerPipelineLayout artificially reduced …", twice, in every
 * command) and has no switch to turn them off. Node has no dup2, so fd 2 is swapped by
 * reopening: /proc/self/fd/2 is opened (appending) before fd 2 is closed and /dev/null takes its
 * number, then the saved file takes it back. Where any step is not possible (no /proc, or stderr a
 * socket, as when a Node program spawns crab with its default stdio), `fn` just runs and the lines
 * show.
 */
async function quietNativeStderr<T>(fn: () => Promise<T>): Promise<T> {
  if (!isNode || envVar('CRAB_DEBUG') || (globalThis as { process?: { platform?: string } }).process?.platform !== 'linux') return fn();
  const fs = await import('node:fs');
  let saved = -1;
  try {
    saved = fs.openSync('/proc/self/fd/2', 'a');
    fs.closeSync(2);
    const nul = fs.openSync('/dev/null', 'w');
    if (nul !== 2) fs.closeSync(nul); // another descriptor took 2: nothing to restore into
  } catch {
    if (saved >= 0) fs.closeSync(saved);
    return fn();
  }
  try {
    return await fn();
  } finally {
    try {
      fs.closeSync(2);
      fs.openSync(`/proc/self/fd/${saved}`, 'a'); // lowest free descriptor: 2 again
    } finally {
      fs.closeSync(saved);
    }
  }
}

/** The device, which must have been created by {@link initDevice} (tensor creation does that). */
export function gpuDevice(): GPUDevice {
  if (!held) throw new Error('crab-ser: the GPU device is not initialised; call `await initDevice()` first');
  return held.device;
}

/** Adapter facts (after {@link initDevice}). */
export function deviceInfo(): DeviceInfo {
  if (!held) throw new Error('crab-ser: the GPU device is not initialised; call `await initDevice()` first');
  return held.info;
}

/** Dawn's `navigator.gpu` object (benchmarks hand it to peer libraries on the same adapter). */
export function gpuInstance(): GPU {
  if (!held) throw new Error('crab-ser: the GPU device is not initialised; call `await initDevice()` first');
  return held.gpu;
}

/** True once {@link initDevice} has finished. */
export function hasDevice(): boolean {
  return held !== null;
}

/**
 * Keeps released instances alive. dawn.node goes on processing the instance's events after
 * `device.destroy()` (the device's `lost` promise settles then); if the instance object has been
 * garbage-collected by that time, Dawn aborts the process ("futex facility returned an
 * unexpected error code", SIGABRT or SIGSEGV on exit). A referenced instance does not keep Node
 * alive: pending work does, and a destroyed device has none.
 */
const retired: Held[] = [];

/** Destroys the device, so a finished script exits by itself; safe to call twice. */
export function releaseDevice(): void {
  if (!held) return;
  const h = held;
  held = null;
  for (const hook of releaseHooks) hook();
  h.device.destroy();
  retired.push(h);
}

const releaseHooks: Array<() => void> = [];
/** Runs `hook` when the device is released (caches of GPU objects clear themselves here). */
export function onRelease(hook: () => void): void {
  releaseHooks.push(hook);
}
