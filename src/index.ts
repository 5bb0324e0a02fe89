/**
 * crab-ser: a WebGPU tensor engine with autograd, and the Crab speech-emotion model on it.
 *
 * ```ts
 * import { ready, fromArray, ops, releaseDevice } from 'crab-ser';
 * await ready();
 * const y = ops.matmul(fromArray([[1, 2], [3, 4]]), fromArray([[5], [6]]));
 * console.log(await y.toArray());
 * releaseDevice();
 * ```
 * @module
 */
import './model/folder.js'; // model folders on disk (Node)
export { openTorchBin } from './model/folder.js';
export * from './tensor/tensor.js';
export { full, zeros, ones, arange } from './kernels/fill.js';
export { backward } from './kernels/autograd.js';
export { initDevice, releaseDevice, deviceInfo, NoAdapterError, type DeviceInfo } from './tensor/device.js';
export { memoryStats, resetPeak, trimPool, type MemoryStats } from './tensor/pool.js';
export { flush, sync, dispatches, type Kernel } from './tensor/runtime.js';
export * as ops from './kernels/index.js';
export * as model from './model/index.js';
export * as data from './data/index.js';
export * as training from './train/index.js';
export * as audio from './audio/audio.js';
export type { DataCheckJson, TrainJson, EvalJson, PredictJson, EmbedJson, ScoresJson } from './commands/json.js';
