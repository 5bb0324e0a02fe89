import './folder.js'; // folder paths are read from disk
/**
 * Pretrained Hugging Face checkpoints by folder path or Hugging Face id (Node): the id is looked
 * up in the Hugging Face cache (see `ensureModel` in resolve.ts to download first), then loaded by
 * `load.ts`, which also serves a browser's files.
 * @module
 */
import type { WavLMModel, WavLMConfig } from './wavlm.js';
import type { RobertaModel, RobertaConfig } from './roberta.js';
import type { ByteLevelBPE } from './tokenizer.js';
import { resolveModel } from './resolve.js';
import { wavlmFromFiles, robertaFromFiles } from './load.js';

export { IGNORED_KEYS, wavlmFromFiles, robertaFromFiles } from './load.js';

/** Loads a WavLM from a folder or a cached Hugging Face id, bare or with the `wavlm.` prefix. */
export function loadWavLM(nameOrPath: string, overrides: Partial<WavLMConfig> = {}): WavLMModel {
  return wavlmFromFiles(resolveModel(nameOrPath), overrides);
}

/** Loads a RoBERTa (bare or with the `roberta.` prefix of task checkpoints) and its tokenizer. */
export function loadRoberta(nameOrPath: string, overrides: Partial<RobertaConfig> = {}): { model: RobertaModel; tokenizer: ByteLevelBPE } {
  return robertaFromFiles(resolveModel(nameOrPath), overrides);
}
