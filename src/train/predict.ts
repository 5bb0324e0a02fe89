/**
 * One utterance through a trained run: the run's encoders (synthetic tiny ones or the Hugging
 * Face checkpoints it was trained on; their fine-tuned weights for a fine-tuned run) make the
 * features, the best Crab head classifies them.
 * @module
 */
import { noGrad, scope } from '../tensor/tensor.js';
import { softmax } from '../kernels/index.js';
import { makeBatch } from './trainer.js';
import { extractFeatures } from './features.js';
import { loadRun } from './finetune.js';

/** The predicted label and every class' probability. */
export interface Prediction {
  label: string;
  probabilities: Record<string, number>;
}

/** Classifies one audio file (and transcript) with the best checkpoint of `runDir`. */
export async function predictOne(runDir: string, audioPath: string, text: string): Promise<Prediction> {
  const { crab, state, encoders } = loadRun(runDir);
  if (!encoders) throw new Error(`${runDir}: the checkpoint does not record its encoders (trained by an older version); retrain to predict`);
  let failure = '';
  const f = await extractFeatures([{ id: audioPath, label: 0, split: 'test', speaker: '-', text, audioPath }], encoders.wavlm, encoders.roberta, encoders.tokenizer, {
    maxSeconds: encoders.maxSeconds, normalize: encoders.normalize, allLayers: (state.speechLayers ?? 1) > 1, onSkip: (_, reason) => (failure = reason),
  });
  if (!f.items.length) throw new Error(failure || `${audioPath}: could not be read`);
  const probs = await scope(async () => {
    const p = noGrad(() => softmax(crab.forward(makeBatch(f.items, f), false).logits));
    return Array.from(await p.toArray());
  });
  const best = probs.indexOf(Math.max(...probs));
  return { label: state.labels[best]!, probabilities: Object.fromEntries(state.labels.map((l, i) => [l, probs[i]!])) };
}
