/**
 * Buffer pool keyed by size class.
 *
 * GPU buffers are expensive to create, and a training step allocates the same sizes every step,
 * so freed buffers wait here for the next request of their class. Classes are powers of two split
 * in four (2^k · {1, 1.25, 1.5, 1.75}), which caps the waste at 25%.
 * @module
 */
import { gpuDevice, deviceInfo, onRelease } from './device.js';

/** Byte counts reported by {@link memoryStats}. */
export interface MemoryStats {
  /** Bytes held by live tensors (their buffers' class sizes). */
  liveBytes: number;
  /** Bytes in freed buffers waiting for reuse. */
  pooledBytes: number;
  /** Highest `liveBytes` since start or the last {@link resetPeak}. */
  peakBytes: number;
  /** Number of live buffers. */
  liveBuffers: number;
}

const STORAGE_USAGE = GPUBufferUsageFlags();
function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global installed by initDevice(); the numbers are fixed by the spec.
  return 0x0080 /* STORAGE */ | 0x0004 /* COPY_SRC */ | 0x0008 /* COPY_DST */;
}

/** The size class a request of `bytes` is served from. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 4) * 4);
  const p = 2 ** Math.floor(Math.log2(b));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (p * f >= b) return Math.ceil((p * f) / 16) * 16;
  return 2 * p;
}

const free = new Map<number, GPUBuffer[]>();
const stats: MemoryStats = { liveBytes: 0, pooledBytes: 0, peakBytes: 0, liveBuffers: 0 };

/** A storage buffer of at least `bytes`, from the pool when one is free. */
export function acquireBuffer(bytes: number): GPUBuffer {
  // A tensor that fits one storage binding must not be rounded past the binding limit.
  const limit = deviceInfo().limits.maxStorageBufferBindingSize;
  let size = sizeClass(bytes);
  if (bytes <= limit && size > limit) size = Math.ceil(bytes / 16) * 16;
  const list = free.get(size);
  let buf = list?.pop();
  if (buf) stats.pooledBytes -= size;
  else buf = gpuDevice().createBuffer({ size, usage: STORAGE_USAGE, label: `pool:${size}` });
  stats.liveBytes += size;
  stats.liveBuffers++;
  if (stats.liveBytes > stats.peakBytes) stats.peakBytes = stats.liveBytes;
  return buf;
}

/** Gives a buffer back to the pool. GPU work already recorded keeps its order, so reuse is safe. */
export function releaseBuffer(buf: GPUBuffer): void {
  const size = buf.size;
  stats.liveBytes -= size;
  stats.liveBuffers--;
  stats.pooledBytes += size;
  let list = free.get(size);
  if (!list) free.set(size, (list = []));
  list.push(buf);
}

/** Live, pooled and peak bytes. */
export function memoryStats(): MemoryStats {
  return { ...stats };
}

/** Starts a new peak measurement. */
export function resetPeak(): void {
  stats.peakBytes = stats.liveBytes;
}

/** Destroys the pooled (free) buffers. */
export function trimPool(): void {
  for (const list of free.values()) for (const b of list) b.destroy();
  free.clear();
  stats.pooledBytes = 0;
}

onRelease(() => {
  free.clear();
  stats.pooledBytes = 0;
  stats.liveBytes = 0;
  stats.liveBuffers = 0;
});
