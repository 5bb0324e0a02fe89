/**
 * Models: the module system, RoBERTa, WavLM, the BiGRU, multi-head attention and Crab.
 * @module
 */
export * from './module.js';
export * from './roberta.js';
export * from './wavlm.js';
export * from './gru.js';
export * from './mha.js';
export * from './crab.js';
export * from './crab_encoders.js';
export { TensorSource, loadInto, type LoadReport } from './weights.js';
export { loadWavLM, loadRoberta, IGNORED_KEYS } from './pretrained.js';
export { SafetensorsFile, writeSafetensors, type STEntry, type STDType, type STWrite } from './safetensors.js';
export { readConfig } from './config.js';
export { resolveModel, hubCacheDir } from './resolve.js';
export { TorchBinFile } from './torchbin.js';
export { ByteLevelBPE, bytesToUnicode, type BatchEncoding, type EncodeOptions } from './tokenizer.js';
