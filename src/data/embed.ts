/**
 * `crab embed`: audio files in, WavLM hidden states of chosen layers out (one safetensors file,
 * tensors named `<name>.layer<k>`, and an index from inputs to names). Unreadable files are
 * skipped and reported, not fatal.
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join, extname, resolve, relative, dirname, sep } from 'node:path';
import { fromArray, noGrad, scope } from '../tensor/tensor.js';
import type { WavLMModel } from '../model/wavlm.js';
import { loadForModel } from '../audio/audio.js';
import { writeSafetensors, type STWrite } from '../model/safetensors.js';
import { Progress } from '../util/progress.js';
import { writeAtomic } from '../util/fs.js';
import type { ThroughputStats } from './features.js';

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
  /** Filled with where the time went. */
  stats?: ThroughputStats;
}

/**
 * A distinct, traceable name per input: its path relative to the folder all inputs share, without
 * the extension (`sess1/x`, `sess2/x`), the extension kept only where two inputs would still
 * collide (`x.wav`, `x.flac`).
 */
export function embeddingNames(files: string[]): string[] {
  const abs = files.map((f) => resolve(f));
  const dirs = abs.map((f) => dirname(f).split(sep));
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let k = 0;
    while (k < common.length && k < d.length && common[k] === d[k]) k++;
    common = common.slice(0, k);
  }
  const root = common.join(sep) || sep;
  const rel = abs.map((f) => relative(root, f).split(sep).join('/'));
  const bare = rel.map((r) => r.slice(0, r.length - extname(r).length));
  const count = new Map<string, number>();
  for (const b of bare) count.set(b, (count.get(b) ?? 0) + 1);
  return bare.map((b, i) => (count.get(b)! > 1 ? rel[i]! : b));
}

/** One embedded input: its file, its name in the output, the tensors written and its frame count. */
export interface EmbeddedFile {
  input: string;
  name: string;
  tensors: string[];
  frames: number;
}

/**
 * Embeds each file alone (no padding effects) and writes `out` (tensors `<name>.layer<k>`, names
 * from {@link embeddingNames}) and `<out>.index.json` mapping each input to its tensors.
 */
export async function embedFiles(model: WavLMModel, files: string[], out: string, o: EmbedOptions = {}): Promise<{ written: number; files: EmbeddedFile[]; index: string; skipped: Array<{ file: string; reason: string }> }> {
  const L = model.config.num_hidden_layers;
  const layers = o.layers ?? [L];
  for (const l of layers) if (!(Number.isInteger(l) && l >= 0 && l <= L)) throw new Error(`embed: layer ${l} is not in [0, ${L}]`);
  const tensors: Record<string, STWrite> = {};
  const skipped: Array<{ file: string; reason: string }> = [];
  const bar = o.quiet ? null : new Progress('embedding', files.length);
  const names = embeddingNames(files);
  const done: EmbeddedFile[] = [];
  for (const [i, f] of files.entries()) {
    let wave: Float32Array;
    try {
      const t0 = performance.now();
      wave = await loadForModel(f, { maxSeconds: o.maxSeconds, normalize: o.normalize });
      if (o.stats) {
        o.stats.decodeMs += performance.now() - t0;
        o.stats.audioSeconds += wave.length / 16000;
      }
      if (wave.length < 400) throw new Error(`${f}: shorter than one WavLM frame (400 samples at 16 kHz)`);
    } catch (e) {
      skipped.push({ file: f, reason: (e as Error).message });
      bar?.update(i + 1);
      continue;
    }
    const name = names[i]!;
    const entry: EmbeddedFile = { input: resolve(f), name, tensors: [], frames: 0 };
    const t1 = performance.now();
    await scope(async () => {
      const r = noGrad(() => model.forward(fromArray(wave, [1, wave.length]), undefined, true));
      for (const l of layers) {
        const h = r.hiddenStates![l]!;
        tensors[`${name}.layer${l}`] = { dtype: 'F32', shape: [h.shape[1]!, h.shape[2]!], data: (await h.toArray()) as Float32Array };
        entry.tensors.push(`${name}.layer${l}`);
        entry.frames = h.shape[1]!;
      }
    });
    if (o.stats) o.stats.encodeMs += performance.now() - t1;
    done.push(entry);
    bar?.update(i + 1);
  }
  writeSafetensors(out, tensors, { layers: layers.join(','), files: String(files.length - skipped.length) });
  const index = `${out}.index.json`;
  writeAtomic(index, JSON.stringify({ out, layers, files: done, skipped }, null, 2));
  return { written: done.length, files: done, index, skipped };
}
