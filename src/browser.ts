/**
 * crab-ser in a browser: the engine on the page's `navigator.gpu`, the Crab head and its
 * in-memory training loop — the same kernels and steps as under Node. Built to
 * `dist/browser/crab.js` (an ES module); `crab serve` serves it with the web app.
 *
 * ```js
 * import { initDevice, trainHead } from './crab.js';
 * await initDevice();                       // the page's WebGPU adapter
 * const { losses } = await trainHead(features, labels, { epochs: 2 });
 * ```
 * Nothing reachable from here imports a Node module (a unit test walks the imports).
 * @module
 */
export { initDevice, deviceInfo, releaseDevice, NoAdapterError, type DeviceInfo } from './tensor/device.js';
export { Tensor, fromArray, tidy, noGrad, keep, Rng } from './tensor/tensor.js';
export { memoryStats } from './tensor/pool.js';
export * as ops from './kernels/index.js';
export { Crab, MLCS_LAYERS, type CrabConfig, type CrabInput, type CrabOutput } from './model/crab.js';
export { trainHead, evaluate, resolveTrainConfig, headFor, type TrainConfig, type TrainHeadOptions } from './train/loop.js';
export { computeMetrics, type Metrics } from './train/metrics.js';
export { makeBatch } from './data/batch.js';
export { runFromFiles, predictAudio, type Prediction, type RunStateLike, type RunEncoders } from './train/predict.js';
export { parseWav, prepareAudio, resample } from './audio/dsp.js';
export type { FeatureItem, FeatureSet } from './data/features.js';
export { featureSetFrom } from './data/feature_format.js';
export { SafetensorsFile, blobSource, urlSource, type ByteSource, type AsyncByteSource } from './model/safetensors_core.js';
export { memoryFiles, fetchedFiles, modelFileNames, MODEL_FILE, GATHERED_IN_CHUNKS, type ModelFiles, type TensorFile } from './model/model_files.js';
export { TorchBinFile, type InflateRaw } from './model/torchbin.js';
export { wavlmFromFiles, robertaFromFiles } from './model/load.js';
export { WavLMModel, type WavLMConfig, type WavLMOutput } from './model/wavlm.js';
export { RobertaModel, type RobertaConfig } from './model/roberta.js';
