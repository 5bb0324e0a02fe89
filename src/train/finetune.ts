/**
 * End-to-end fine-tuning: the Crab head trained together with WavLM and RoBERTa on raw audio and
 * text (the encoders at `encoderLrScale` × the head's learning rate, WavLM's conv encoder
 * frozen). `run.ts` loads any run back, head-only or fine-tuned, with the encoders it needs.
 * Fine-tuning is what the paper does; on a CPU adapter it is slow, which is why the feature
 * cache ({@link train}) is the default.
 * @module
 */
import { CrabWithEncoders } from '../model/crab_encoders.js';
import { loadForModel } from '../audio/audio.js';
import { Rng } from '../tensor/rng.js';
import { tokenize, encoderDims } from '../data/features.js';
import type { Encoders } from '../data/encoders.js';
import type { Utterance } from '../data/utterance.js';
import { fit, headFor, resolveTrainConfig, type TrainConfig, type TrainOptions, type TrainState, type TrainTask } from './trainer.js';

/** An utterance with its token ids (audio is read per batch when it is a file). */
export type RawItem = Utterance & { ids: number[] };

async function audioOf(u: Utterance, enc: Encoders): Promise<Float32Array> {
  if (u.audio) return u.audio;
  try {
    return await loadForModel(u.audioPath ?? '(no path)', { maxSeconds: enc.maxSeconds, normalize: enc.normalize });
  } catch (e) {
    throw new Error(`utterance ${u.id}: ${(e as Error).message}. Fine-tuning reads audio every epoch; find unreadable files with \`crab data check\` and fix or drop them.`);
  }
}

/**
 * Trains Crab with its encoders end to end. Parameter groups: `head` at `lr`, `encoders` at
 * `lr · encoderLrScale`; WavLM's conv feature encoder is frozen. The checkpoints hold
 * `wavlm.*`, `roberta.*` and `crab.*`.
 */
export async function trainEndToEnd(utts: Utterance[], labels: string[], cfgIn: Partial<TrainConfig>, o: TrainOptions, enc: Encoders): Promise<TrainState> {
  const cfg = resolveTrainConfig({ ...cfgIn, finetune: true });
  // The encoders' dropout, LayerDrop and SpecAugment follow the run's seed (a resumed run then
  // restores the generators' saved states).
  enc.wavlm._rng.state = new Rng(cfg.seed * 3 + 1).state;
  enc.roberta._rng.state = new Rng(cfg.seed * 3 + 2).state;
  const dims = encoderDims(enc.wavlm, enc.roberta, cfg.layerWeightedSum);
  const crab = headFor(cfg, dims, labels.length);
  const model = new CrabWithEncoders(enc.wavlm, enc.roberta, crab);
  const items: RawItem[] = utts.map((u) => ({ ...u, ids: tokenize(enc.tokenizer, u.text) }));
  let audio: Float32Array[] = [];
  const task: TrainTask<RawItem> = {
    module: model, crab, dims,
    groups: [
      { params: crab.parameters(), lr: cfg.lr, name: 'head' },
      { params: [...enc.wavlm.parameters(), ...enc.roberta.parameters()], lr: cfg.lr * cfg.encoderLrScale, name: 'encoders' },
    ],
    rngs: [crab._rng, enc.wavlm._rng, enc.roberta._rng],
    // The batch's audio is read (decoded, resampled) before the step, then handed to the encoders.
    prepare: async (batch) => {
      audio = await Promise.all(batch.map((u) => audioOf(u, enc)));
    },
    input: (batch) => model.input(batch.map((u, i) => ({ audio: audio[i]!, ids: u.ids }))),
  };
  return fit(task, items, labels, cfg, o);
}

