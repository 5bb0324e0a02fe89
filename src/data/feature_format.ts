/**
 * The feature file format, read without a file system: a safetensors file with `speech`
 * [frames, layers, width], `text` [tokens, layers, width], per-utterance lengths and labels, and
 * the utterances' ids, splits and speakers in its metadata (written by `saveFeatures`).
 * @module
 */
import type { SafetensorsFile } from '../model/safetensors_core.js';
import type { Utterance } from './utterance.js';

/** One utterance's cached features. */
export interface FeatureItem {
  id: string;
  label: number;
  split: Utterance['split'];
  speaker: string;
  /** [speechLen, speechLayers, speechDim] */
  speech: Float32Array;
  speechLen: number;
  /** [textLen, textLayers, textDim] */
  text: Float32Array;
  textLen: number;
}

/** Widths of the encoder states, and how many hidden states per step were kept (1: the last). */
export interface FeatureDims {
  speechDim: number;
  textDim: number;
  speechLayers?: number;
  textLayers?: number;
}

/** Features of a corpus. */
export interface FeatureSet extends FeatureDims {
  items: FeatureItem[];
}

/** A feature file's set and metadata, from its parsed safetensors (a file under Node, bytes in a browser). */
export function featureSetFrom(f: SafetensorsFile): { set: FeatureSet; metadata: Record<string, string> } {
  const path = f.path;
  // [rows, layers, width] (older caches: [rows, width]).
  const ss = f.shape('speech');
  const ts = f.shape('text');
  const Ns = ss[0]!;
  const [Ls, Ds] = ss.length === 3 ? [ss[1]!, ss[2]!] : [1, ss[1]!];
  const [Lt, Dt] = ts.length === 3 ? [ts[1]!, ts[2]!] : [1, ts[1]!];
  const sp = f.float32('speech');
  const tx = f.float32('text');
  const sl = f.int32('speech_len');
  const tl = f.int32('text_len');
  const lab = f.int32('label');
  const meta = JSON.parse(f.metadata.items ?? '[]') as Array<[string, Utterance['split'], string]>;
  let a = 0;
  let b = 0;
  const items = meta.map(([id, split, speaker], i) => {
    const it: FeatureItem = {
      id, split, speaker, label: lab[i]!, speechLen: sl[i]!, textLen: tl[i]!,
      speech: sp.subarray(a * Ls * Ds, (a + sl[i]!) * Ls * Ds), text: tx.subarray(b * Lt * Dt, (b + tl[i]!) * Lt * Dt),
    };
    a += sl[i]!;
    b += tl[i]!;
    return it;
  });
  if (a !== Ns) throw new Error(`${path}: feature cache is inconsistent (delete it to rebuild)`);
  return { set: { items, speechDim: Ds, textDim: Dt, speechLayers: Ls, textLayers: Lt }, metadata: f.metadata };
}
