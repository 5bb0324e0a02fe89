/**
 * The one dispatch path: every kernel launch in the engine goes through {@link dispatch}.
 *
 * - Pipelines are cached by kernel stem + entry point + specialization constants. Shapes travel
 *   as uniforms, so one pipeline serves every shape.
 * - Dispatches are recorded into one compute pass and submitted together when a result is read
 *   back, before a host upload, or past {@link MAX_BATCH} dispatches. Uniforms of a batch live in
 *   one arena buffer (256-byte slots), written once per submit.
 * - Every `.wgsl` kernel binds its uniforms as `@group(0) @binding(0) var<uniform> p: Params;`
 *   (scalar fields only) and its storage buffers from binding 1 in the order the caller passes them.
 * @module
 */
import { envVar, warn } from './env.js';
import { gpuDevice, deviceInfo, onRelease, throwPendingErrors } from './device.js';

/** A WGSL kernel: its stem (the name used everywhere), source and entry point. */
export interface Kernel {
  /** snake_case stem, e.g. `matmul`; the pipeline label Dawn prints in errors. */
  stem: string;
  /** WGSL source text. */
  source: string;
  /** Entry point, default `main`. */
  entry?: string;
}

/** A uniform value: plain numbers are u32 (or i32 when negative); wrap floats with {@link f32}. */
export type Param = number | { f: number };
/** Marks a uniform as f32. */
export const f32 = (f: number): { f: number } => ({ f });

/** A storage binding: a whole buffer, or a byte range of one (offsets 256-byte aligned). */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset: number; size: number } | null;

/** One kernel launch. */
export interface Launch {
  /** Storage buffers, bound at 1, 2, … in this order; `null` skips a binding number. */
  buffers: Binding[];
  /** Uniform scalars in the order of the kernel's `Params` struct (at most 64). */
  params?: Param[];
  /** `override` constants of the kernel (pipeline specialization). */
  constants?: Record<string, number>;
  /** Workgroup counts; see {@link grid} for large 1-D launches. */
  workgroups: [number, number?, number?];
  /**
   * Rough work of the launch in FLOP-equivalents (default: 100 per invocation), used only to
   * predict how long the GPU will take — see {@link sync}.
   */
  work?: number;
}

/** Most dispatches recorded before an automatic submit. */
export const MAX_BATCH = 512;
const SLOT = 256;

const modules = new Map<string, GPUShaderModule>();
const pipelines = new Map<string, GPUComputePipeline>();
let encoder: GPUCommandEncoder | null = null;
let pass: GPUComputePassEncoder | null = null;
let arena: GPUBuffer | null = null;
const arenaData = new ArrayBuffer(MAX_BATCH * SLOT);
const arenaU32 = new Uint32Array(arenaData);
const arenaI32 = new Int32Array(arenaData);
const arenaF32 = new Float32Array(arenaData);
let slots = 0;
let dispatchCount = 0;

// Dawn's Node binding busy-spins the JS thread while a GPU promise is pending. On a software
// adapter that spin takes a core from the GPU threads, so before waiting we sleep through most
// of the predicted GPU time. Prediction = work since the last wait × seconds per work unit, the
// latter learned from every wait (so on a real GPU, where work is fast, the sleeps vanish).
let pendingWork = 0;
let firstSubmit = 0;
/** Pipelines created since the last wait: their compile time (seconds on a cold shader cache) is not GPU work. */
let compiledSinceWait = 0;
let secondsPerWork = 1 / 15e9;
// Bounds of the calibration: work units are about FLOPs, so 0.5–500 G units per second.
const MIN_SECONDS_PER_WORK = 1 / 500e9;
const MAX_SECONDS_PER_WORK = 1 / 0.5e9;
const sleepOff = envVar('CRAB_NO_SLEEP') === '1';

/** Number of dispatches issued since start (for benchmarks and the debug switch). */
export function dispatches(): number {
  return dispatchCount;
}

const debugLevel = Number(envVar('CRAB_DEBUG') ?? 0);

function pipelineFor(k: Kernel, constants: Record<string, number> | undefined): GPUComputePipeline {
  const entry = k.entry ?? 'main';
  const ckey = constants ? Object.keys(constants).sort().map((n) => `${n}=${constants[n]}`).join(',') : '';
  const key = `${k.stem}|${entry}|${ckey}`;
  let p = pipelines.get(key);
  if (p) return p;
  const device = gpuDevice();
  let mod = modules.get(k.stem + '\0' + k.source.length);
  if (!mod) {
    mod = device.createShaderModule({ code: k.source, label: k.stem });
    modules.set(k.stem + '\0' + k.source.length, mod);
  }
  if (debugLevel >= 2) warn(`[crab] new pipeline ${key}`);
  p = device.createComputePipeline({
    label: k.stem,
    layout: 'auto',
    compute: { module: mod, entryPoint: entry, constants: constants ?? {} },
  });
  pipelines.set(key, p);
  compiledSinceWait++;
  return p;
}

/** Records one kernel launch. Nothing runs until the batch is submitted. */
export function dispatch(k: Kernel, l: Launch): void {
  const device = gpuDevice();
  if (slots >= MAX_BATCH) flush();
  const pipeline = pipelineFor(k, l.constants);
  if (!arena) arena = device.createBuffer({ size: MAX_BATCH * SLOT, usage: 0x0040 /* UNIFORM */ | 0x0008, label: 'uniform-arena' });
  const slot = slots++;
  const base = (slot * SLOT) / 4;
  const params = l.params ?? [];
  if (params.length > SLOT / 4) throw new Error(`kernel ${k.stem}: ${params.length} uniforms, at most ${SLOT / 4}`);
  for (let i = 0; i < params.length; i++) {
    const v = params[i]!;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new Error(`kernel ${k.stem}: uniform ${i} = ${v} is not an integer; wrap floats in f32()`);
      if (v < 0) arenaI32[base + i] = v;
      else arenaU32[base + i] = v;
    } else arenaF32[base + i] = v.f;
  }
  const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: arena, offset: slot * SLOT, size: SLOT } }];
  const maxBinding = deviceInfo().limits.maxStorageBufferBindingSize;
  l.buffers.forEach((b, i) => {
    if (!b) return;
    const range = typeof (b as { offset?: unknown }).offset === 'number' ? (b as { buffer: GPUBuffer; offset: number; size: number }) : null;
    const size = range ? range.size : (b as GPUBuffer).size;
    if (size > maxBinding) {
      throw new Error(`kernel ${k.stem}: binding ${i + 1} is ${size} bytes, above this adapter's maxStorageBufferBindingSize (${maxBinding}); ` +
        'a tensor this large is only supported by the kernels that chunk it (embedding, fill)');
    }
    entries.push({ binding: i + 1, resource: range ? { buffer: range.buffer, offset: range.offset, size: range.size } : { buffer: b as GPUBuffer } });
  });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: k.stem });
  if (!encoder) encoder = device.createCommandEncoder({ label: 'batch' });
  if (profiling) {
    // One pass per dispatch, timestamped at its start and end.
    if (pass) pass.end();
    const i = profileLabels.length;
    profileLabels.push(k.entry && k.entry !== 'main' ? `${k.stem}.${k.entry}` : k.stem);
    profileScopes.push(scope);
    pass = encoder.beginComputePass({ label: 'profiled', timestampWrites: { querySet: querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
  }
  if (!pass) pass = encoder.beginComputePass({ label: 'batch' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  const [x, y = 1, z = 1] = l.workgroups;
  const maxDim = deviceInfo().limits.maxComputeWorkgroupsPerDimension;
  if (x > maxDim || y > maxDim || z > maxDim) throw new Error(`kernel ${k.stem}: ${x}×${y}×${z} workgroups exceed ${maxDim} per dimension`);
  if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
  dispatchCount++;
  pendingWork += l.work ?? 100 * x * y * z * 64;
  if (debugLevel >= 3) warn(`[crab] dispatch ${k.stem} ${x}x${y}x${z}`);
}

/** The recorded-but-unsubmitted encoder, for copies that must stay in order with dispatches. */
export function commandEncoder(): GPUCommandEncoder {
  const device = gpuDevice();
  if (pass) {
    pass.end();
    pass = null;
  }
  if (!encoder) encoder = device.createCommandEncoder({ label: 'batch' });
  return encoder;
}

/** True when dispatches are recorded but not yet submitted. */
export function hasPending(): boolean {
  return encoder !== null;
}

/** Submits everything recorded so far. */
export function flush(): void {
  if (!encoder) {
    throwPendingErrors();
    return;
  }
  const device = gpuDevice();
  if (pass) pass.end();
  if (slots > 0 && arena) device.queue.writeBuffer(arena, 0, arenaData, 0, slots * SLOT);
  if (profiling && profileLabels.length > 0) resolveProfile(encoder);
  device.queue.submit([encoder.finish()]);
  if (firstSubmit === 0) firstSubmit = performance.now();
  encoder = null;
  pass = null;
  slots = 0;
  throwPendingErrors();
}

/**
 * Workgroup counts for `n` invocations of a 1-D kernel with workgroup size `wg`. Past the
 * per-dimension limit the grid folds into y; kernels compute their index as
 * `gid.x + gid.y * nwg.x * WG` (see `wgsl/unary.wgsl`).
 */
export function grid(n: number, wg = 64): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  const max = 65535;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/**
 * Sleeps through most of the GPU time predicted for the work submitted since the last wait, so
 * the busy-waiting promise that follows spins only briefly. Returns a callback that records how
 * long the work really took.
 */
export async function beforeWait(): Promise<() => void> {
  const work = pendingWork;
  const start = firstSubmit || performance.now();
  const predictedMs = work * secondsPerWork * 1000;
  let woke = 0;
  // A spin that yields to the adapter's threads costs nothing: no sleep, so no oversleeping.
  if (!sleepOff && !deviceInfo().yieldingWaits && predictedMs > 4) {
    const left = 0.8 * predictedMs - (performance.now() - start);
    if (left > 1) {
      await new Promise((r) => setTimeout(r, left));
      woke = performance.now();
    }
  }
  const compiled = compiledSinceWait;
  return () => {
    const now = performance.now();
    const actual = (now - start) / 1000;
    // Done within a millisecond of waking: the GPU had finished during the sleep, so the wait
    // measured the sleep, not the work. Without this the estimate fell only ~6% per wait, and a
    // workload made faster kept sleeping as long as before.
    const overslept = woke > 0 && now - woke < 1;
    // Learn only from waits without a new pipeline: a cold shader cache can spend seconds
    // compiling before a tiny workload, and a calibration learnt from that once made the next
    // big workload sleep for a minute and a half.
    secondsPerWork = nextSecondsPerWork(secondsPerWork, actual, work, compiled, overslept);
    pendingWork = 0;
    firstSubmit = 0;
    compiledSinceWait = 0;
  };
}

/**
 * The sleep calibration after a wait that took `actual` seconds for `work` units: a moving
 * average, each step at most 4× up or down, within 0.5–500 G units per second; unchanged after
 * tiny waits and after waits that compiled a pipeline. `overslept` (the GPU was done before the
 * sleep ended, so `actual` only bounds the work's time from above) halves the estimate.
 */
export function nextSecondsPerWork(prev: number, actual: number, work: number, compiled: number, overslept = false): number {
  if (work <= 0 || actual <= 0.002 || compiled > 0) return prev;
  if (overslept) return Math.max(prev / 2, MIN_SECONDS_PER_WORK);
  const next = 0.7 * prev + 0.3 * Math.min(Math.max(actual / work, prev / 4), prev * 4);
  return Math.min(Math.max(next, MIN_SECONDS_PER_WORK), MAX_SECONDS_PER_WORK);
}

/** Waits until the GPU has finished everything submitted. */
export async function sync(): Promise<void> {
  flush();
  const done = await beforeWait();
  await gpuDevice().queue.onSubmittedWorkDone();
  done();
  throwPendingErrors();
  if (profileReads.length) await readProfiles();
}

// ---- Profiling: GPU time per kernel from timestamp queries (opt-in, see profileKernels). ----
let profiling = false;
let querySet: GPUQuerySet | null = null;
let profileLabels: string[] = [];
let profileScopes: string[] = [];
const profileReads: Array<{ buffer: GPUBuffer; labels: string[]; scopes: string[] }> = [];
const profileTotals = new Map<string, { count: number; ms: number }>();
const scopeTotals = new Map<string, { count: number; ms: number }>();

/** The model part dispatches are attributed to (see {@link profileScope}); '' outside any. */
let scope = '';

/**
 * Runs `fn` with its dispatches attributed to `name` (nested scopes join with `/`, e.g.
 * `encoder.layer.3`), for {@link scopeProfile}. The models mark their layers; the tape records
 * each op's scope, so the backward of a layer's ops is attributed to `<scope> (backward)`.
 */
export function profileScope<T>(name: string, fn: () => T): T {
  const prev = scope;
  scope = prev && !name.endsWith(' (backward)') ? `${prev}/${name}` : name;
  try {
    return fn();
  } finally {
    scope = prev;
  }
}

/** The scope dispatches are attributed to now. */
export function currentScope(): string {
  return scope;
}

/** GPU milliseconds and launch counts per scope (see {@link profileScope}) since the last reset; '' holds what ran outside any. */
export function scopeProfile(reset = false): Map<string, { count: number; ms: number }> {
  const out = new Map(scopeTotals);
  if (reset) scopeTotals.clear();
  return out;
}

/**
 * Turns per-kernel GPU timing on or off (needs the adapter's `timestamp-query` feature; returns
 * false without it). While on, each dispatch gets its own timestamped pass, so batches run a
 * little slower; {@link kernelProfile} then gives the GPU time per kernel and entry point,
 * gathered at each {@link sync}. `npm run bench -- fused` reports it next to wall time.
 */
export function profileKernels(on: boolean): boolean {
  flush();
  if (on && !deviceInfo().hasTimestamps) return false;
  if (on && !querySet) querySet = gpuDevice().createQuerySet({ type: 'timestamp', count: 2 * MAX_BATCH, label: 'profile' });
  profiling = on;
  return true;
}

/** GPU milliseconds and launch counts per kernel (`stem` or `stem.entry`) since the last reset. */
export function kernelProfile(reset = false): Map<string, { count: number; ms: number }> {
  const out = new Map(profileTotals);
  if (reset) profileTotals.clear();
  return out;
}

function resolveProfile(enc: GPUCommandEncoder): void {
  const device = gpuDevice();
  const n = 2 * profileLabels.length;
  const resolved = device.createBuffer({ size: n * 8, usage: 0x0200 /* QUERY_RESOLVE */ | 0x0004 /* COPY_SRC */ });
  const read = device.createBuffer({ size: n * 8, usage: 0x0001 /* MAP_READ */ | 0x0008 /* COPY_DST */ });
  enc.resolveQuerySet(querySet!, 0, n, resolved, 0);
  enc.copyBufferToBuffer(resolved, 0, read, 0, n * 8);
  profileReads.push({ buffer: read, labels: profileLabels, scopes: profileScopes });
  profileLabels = [];
  profileScopes = [];
  queueMicrotask(() => resolved.destroy());
}

async function readProfiles(): Promise<void> {
  for (const { buffer, labels, scopes } of profileReads.splice(0)) {
    await buffer.mapAsync(0x0001 /* READ */);
    const t = new BigUint64Array(buffer.getMappedRange());
    const add = (m: Map<string, { count: number; ms: number }>, key: string, ms: number): void => {
      const e = m.get(key) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += ms;
      m.set(key, e);
    };
    labels.forEach((label, i) => {
      const ms = Number(t[2 * i + 1]! - t[2 * i]!) / 1e6;
      add(profileTotals, label, ms);
      add(scopeTotals, scopes[i]!, ms);
    });
    buffer.unmap();
    buffer.destroy();
  }
}

onRelease(() => {
  modules.clear();
  pipelines.clear();
  encoder = null;
  pass = null;
  arena = null;
  slots = 0;
});

/** Host↔GPU traffic since start: writes from the host (uploads) and reads back, with their bytes. */
const transfers = { uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0 };

/** Counts one host→GPU write of `bytes`. */
export function countUpload(bytes: number): void {
  transfers.uploads++;
  transfers.uploadBytes += bytes;
}

/** Counts one GPU→host read (one wait) of `bytes`. */
export function countRead(bytes: number): void {
  transfers.reads++;
  transfers.readBytes += bytes;
}

/** Host↔GPU transfers so far (subtract two snapshots for a step's). */
export function transferStats(): { uploads: number; uploadBytes: number; reads: number; readBytes: number } {
  return { ...transfers };
}
