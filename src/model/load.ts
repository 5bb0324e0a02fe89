/**
 * Pretrained Hugging Face checkpoints → our modules, from a model folder's files (on disk under
 * Node, or fetched or dropped files in a browser): WavLM, RoBERTa and its tokenizer. Task
 * checkpoints (`WavLMForSequenceClassification`, `RobertaForSequenceClassification`, …) prefix the
 * bare model's names with `wavlm.` / `roberta.`; the prefix is found and stripped. Every key we
 * load past on purpose is in {@link IGNORED_KEYS}, with the reason, and nothing else is tolerated.
 * @module
 */
import { WavLMModel, readWavLMConfig, type WavLMConfig } from './wavlm.js';
import { RobertaModel, readRobertaConfig, type RobertaConfig } from './roberta.js';
import { TensorSource, loadInto } from './weights.js';
import { ByteLevelBPE } from './tokenizer.js';
import { filesOf, type ModelFiles } from './model_files.js';

/**
 * Checkpoint keys loading deliberately skips, and model keys it lets stay at their init, per
 * model. `unexpected`: in the file, not in our module. `missing`: in our module, not in the file.
 */
export const IGNORED_KEYS = {
  wavlm: {
    unexpected: [
      // SpecAugment's learned mask vector: used only when masking in training, which our WavLM
      // does with the same parameter when the checkpoint has it (missing below otherwise).
      /^masked_spec_embed$/,
    ],
    missing: [/^masked_spec_embed$/],
  },
  roberta: {
    unexpected: [
      /^pooler\./, // the [CLS] pooler: Crab reads the token states, not the pooled vector
      /position_ids$/, // a buffer (arange), rebuilt from the padding index
      /^lm_head\./, // the masked-LM head of `roberta-base`'s pretraining checkpoint
      /^classifier\./, // a task head of a fine-tuned checkpoint
    ],
    // RoBERTa has one token type; checkpoints converted without it leave our zero row in place.
    missing: [/^embeddings\.token_type_embeddings\./],
  },
};

/** A WavLM from a model folder's files, bare or with the `wavlm.` prefix. */
export function wavlmFromFiles(dir: string | ModelFiles, overrides: Partial<WavLMConfig> = {}): WavLMModel {
  const files = filesOf(dir);
  const model = new WavLMModel({ ...readWavLMConfig(files), ...overrides }).eval();
  const src = TensorSource.fromFolder(files);
  const prefixed = src.names().some((n) => n.startsWith('wavlm.'));
  loadInto(model, prefixed ? TensorSource.fromFolder(files, 'wavlm.') : src, { what: files.where, allowUnexpected: IGNORED_KEYS.wavlm.unexpected, allowMissing: IGNORED_KEYS.wavlm.missing });
  return model;
}

/** A RoBERTa (bare or with the `roberta.` prefix of task checkpoints) and its tokenizer from a model folder's files. */
export function robertaFromFiles(dir: string | ModelFiles, overrides: Partial<RobertaConfig> = {}): { model: RobertaModel; tokenizer: ByteLevelBPE } {
  const files = filesOf(dir);
  const model = new RobertaModel({ ...readRobertaConfig(files), ...overrides }).eval();
  const plain = TensorSource.fromFolder(files);
  const prefixed = plain.names().some((n) => n.startsWith('roberta.'));
  loadInto(model, prefixed ? TensorSource.fromFolder(files, 'roberta.') : plain, { what: files.where, allowUnexpected: IGNORED_KEYS.roberta.unexpected, allowMissing: IGNORED_KEYS.roberta.missing });
  return { model, tokenizer: ByteLevelBPE.fromFolder(files) };
}
