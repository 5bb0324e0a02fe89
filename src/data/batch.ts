/**
 * Batching cached features: a list of feature items → the padded tensors and masks the Crab head
 * takes.
 * @module
 */
import { fromArray } from '../tensor/tensor.js';
import type { CrabInput } from '../model/crab.js';
import type { FeatureItem, FeatureDims } from './features.js';

/** A padded batch of cached features as tensors ([B, T, L, d] when L hidden states were kept). */
export function makeBatch(items: FeatureItem[], dims: FeatureDims): CrabInput {
  const B = items.length;
  const Ts = Math.max(...items.map((i) => i.speechLen));
  const Tt = Math.max(...items.map((i) => i.textLen));
  const ws = (dims.speechLayers ?? 1) * dims.speechDim;
  const wt = (dims.textLayers ?? 1) * dims.textDim;
  const s = new Float32Array(B * Ts * ws);
  const t = new Float32Array(B * Tt * wt);
  items.forEach((it, b) => {
    s.set(it.speech, b * Ts * ws);
    t.set(it.text, b * Tt * wt);
  });
  const shape = (T: number, L: number | undefined, d: number): number[] => ((L ?? 1) > 1 ? [B, T, L!, d] : [B, T, d]);
  return {
    speech: fromArray(s, shape(Ts, dims.speechLayers, dims.speechDim)), text: fromArray(t, shape(Tt, dims.textLayers, dims.textDim)),
    speechLengths: items.map((i) => i.speechLen), textLengths: items.map((i) => i.textLen),
  };
}
