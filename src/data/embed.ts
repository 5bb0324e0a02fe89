/**
 * `crab embed`: audio files in, WavLM hidden states of chosen layers out (one safetensors file,
 * tensors named `<file stem>.layer<k>`). Unreadable files are skipped and reported, not fatal.
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join, basename, extname } from 'node:path';
import { fromArray, noGrad, scope } from '../tensor/tensor.js';
import type { WavLMModel } from '../model/wavlm.js';
import { loadForModel } from '../audio/audio.js';
import { writeSafetensors, type STWrite } from '../model/safetensors.js';
import { Progress } from '../util/progress.js';

const AUDIO = new Set(['.wav', '.flac', '.mp3', '.ogg', '.m4a', '.mp4', '.opus']);

/** Audio files among `inputs` (folders are searched recursively), sorted. */
export function audioFiles(inputs: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw new Error(`${p}: no such file or folder`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else if (AUDIO.has(extname(p).toLowerCase())) out.push(p);
  };
  inputs.forEach(walk);
  return out.sort();
}

/** Options of {@link embedFiles}. */
export interface EmbedOptions {
  /** Hidden-state indices (HF convention: 0 = input of layer 0, L = last). Default: last. */
  layers?: number[];
  maxSeconds?: number;
  normalize?: boolean;
  quiet?: boolean;
}

/** Embeds each file alone (no padding effects) and writes `out`. Returns what was skipped. */
export async function embedFiles(model: WavLMModel, files: string[], out: string, o: EmbedOptions = {}): Promise<{ written: number; skipped: Array<{ file: string; reason: string }> }> {
  const L = model.config.num_hidden_layers;
  const layers = o.layers ?? [L];
  for (const l of layers) if (!(Number.isInteger(l) && l >= 0 && l <= L)) throw new Error(`embed: layer ${l} is not in [0, ${L}]`);
  const tensors: Record<string, STWrite> = {};
  const skipped: Array<{ file: string; reason: string }> = [];
  const bar = o.quiet ? null : new Progress('embedding', files.length);
  const seen = new Set<string>();
  for (const [i, f] of files.entries()) {
    let wave: Float32Array;
    try {
      wave = loadForModel(f, { maxSeconds: o.maxSeconds, normalize: o.normalize });
      if (wave.length < 400) throw new Error(`${f}: shorter than one WavLM frame (400 samples at 16 kHz)`);
    } catch (e) {
      skipped.push({ file: f, reason: (e as Error).message });
      bar?.update(i + 1);
      continue;
    }
    let stem = basename(f, extname(f));
    while (seen.has(stem)) stem += '_';
    seen.add(stem);
    await scope(async () => {
      const r = noGrad(() => model.forward(fromArray(wave, [1, wave.length]), undefined, true));
      for (const l of layers) {
        const h = r.hiddenStates![l]!;
        tensors[`${stem}.layer${l}`] = { dtype: 'F32', shape: [h.shape[1]!, h.shape[2]!], data: (await h.toArray()) as Float32Array };
      }
    });
    bar?.update(i + 1);
  }
  writeSafetensors(out, tensors, { layers: layers.join(','), files: String(files.length - skipped.length) });
  return { written: files.length - skipped.length, skipped };
}
