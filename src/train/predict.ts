/**
 * One utterance through a trained run: the run's encoders (synthetic tiny ones, or the Hugging
 * Face checkpoints it was trained on) make the features, the best Crab head classifies them.
 * @module
 */
import { noGrad, scope } from '../tensor/tensor.js';
import { softmax } from '../kernels/index.js';
import { loadBest, makeBatch } from './trainer.js';
import { extractFeatures } from './features.js';
import { syntheticEncoders } from './demo.js';
import { loadWavLM } from './embed.js';
import { loadRoberta } from './corpus.js';

/** The predicted label and every class' probability. */
export interface Prediction {
  label: string;
  probabilities: Record<string, number>;
}

/** Classifies one audio file (and transcript) with the best checkpoint of `runDir`. */
export async function predictOne(runDir: string, audioPath: string, text: string): Promise<Prediction> {
  const { crab, state } = loadBest(runDir);
  const enc = state.encoders;
  if (!enc) throw new Error(`${runDir}: the checkpoint does not record its encoders (trained by an older version); retrain to predict`);
  let wavlm;
  let roberta;
  let tokenizer: { encode(t: string): number[] };
  let maxSeconds = 12;
  let normalize = false;
  if (enc.kind === 'synthetic') {
    const e = syntheticEncoders(enc.condition, enc.size);
    ({ wavlm, roberta } = e);
    tokenizer = e.vocab;
  } else {
    wavlm = loadWavLM(enc.wavlm);
    const r = loadRoberta(enc.roberta);
    roberta = r.model;
    tokenizer = { encode: (t) => r.tokenizer.encode(t) };
    ({ maxSeconds, normalize } = enc);
  }
  let failure = '';
  const f = await extractFeatures([{ id: audioPath, label: 0, split: 'test', speaker: '-', text, audioPath }], wavlm, roberta, tokenizer, {
    maxSeconds, normalize, onSkip: (_, reason) => (failure = reason),
  });
  if (!f.items.length) throw new Error(failure || `${audioPath}: could not be read`);
  const probs = await scope(async () => {
    const p = noGrad(() => softmax(crab.forward(makeBatch(f.items, f.speechDim, f.textDim), false).logits));
    return Array.from(await p.toArray());
  });
  const best = probs.indexOf(Math.max(...probs));
  return { label: state.labels[best]!, probabilities: Object.fromEntries(state.labels.map((l, i) => [l, probs[i]!])) };
}
