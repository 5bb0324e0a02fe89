/**
 * Decoding every clip of a corpus before training: a clip that exists but cannot be decoded (a
 * broken MELD mp4, a truncated FLAC) is found by `crab data check`, named and left out of the
 * counts, instead of surfacing hours later. Clips are decoded several at a time: ffmpeg runs in
 * parallel processes; WAV, FLAC, MP3 and Opus decode in this process between them.
 * @module
 */
import { availableParallelism } from 'node:os';
import { readAudio } from '../audio/audio.js';
import type { Utterance } from './utterance.js';

/** What decoding every clip found. */
export interface ProbeResult {
  /** Seconds of audio per utterance id, for the clips that decoded. */
  seconds: Map<string, number>;
  /** Clips that exist but could not be decoded, with the decoder's reason. */
  undecodable: Array<{ id: string; file: string; reason: string }>;
}

/** Options of {@link probeCorpus}. */
export interface ProbeOptions {
  /** Clips decoded at once (default: the CPU count). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Skip files for which this returns false (e.g. missing ones, reported elsewhere). */
  include?: (file: string) => boolean;
}

/** Decodes the audio file of every utterance, a few at a time; results in the utterances' order. */
export async function probeCorpus(utterances: Utterance[], o: ProbeOptions = {}): Promise<ProbeResult> {
  const todo = utterances.filter((u) => u.audioPath && (o.include?.(u.audioPath) ?? true));
  const results: Array<{ seconds?: number; reason?: string }> = new Array(todo.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const i = next++;
      try {
        const a = await readAudio(todo[i]!.audioPath!);
        results[i] = a.samples.length ? { seconds: a.samples.length / a.sampleRate } : { reason: `${todo[i]!.audioPath}: no audio samples` };
      } catch (e) {
        results[i] = { reason: (e as Error).message };
      }
      o.onProgress?.(++done, todo.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? availableParallelism()) }, worker));
  const seconds = new Map<string, number>();
  const undecodable: ProbeResult['undecodable'] = [];
  todo.forEach((u, i) => {
    const r = results[i]!;
    if (r.seconds !== undefined) seconds.set(u.id, r.seconds);
    else undecodable.push({ id: u.id, file: u.audioPath!, reason: r.reason! });
  });
  return { seconds, undecodable };
}
