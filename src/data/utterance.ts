/**
 * The unit every corpus loader produces and every feature extractor and trainer consumes.
 * @module
 */

/** One utterance of any corpus. */
export interface Utterance {
  id: string;
  speaker: string;
  /** Index into the corpus' label list. */
  label: number;
  text: string;
  split: 'train' | 'dev' | 'test';
  /** 16 kHz mono samples (synthetic corpus) … */
  audio?: Float32Array;
  /** … or a file to read them from (real corpora). */
  audioPath?: string;
}
