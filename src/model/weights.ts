/**
 * Loading Hugging Face checkpoint folders into modules: `model.safetensors`, shards listed in
 * `model.safetensors.index.json`, or `pytorch_model.bin` (read without running its pickle). Every parameter is checked; missing, unexpected and wrongly
 * shaped tensors are reported together, by name. Tensors are read lazily, one at a time.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './safetensors.js';
import { TorchBinFile } from './torchbin.js';
import type { Module } from './module.js';

/** What a checkpoint file offers: names, shapes and f32 data. */
export interface TensorFile {
  names(): string[];
  shape(name: string): number[];
  float32(name: string): Float32Array;
}

/** A set of named tensors from one or more checkpoint files. */
export class TensorSource {
  private files = new Map<string, TensorFile>();
  constructor(files: TensorFile[], private readonly prefix = '') {
    for (const f of files) for (const n of f.names()) this.files.set(n, f);
  }
  /** Opens a checkpoint folder (single file or sharded). */
  static fromFolder(dir: string, prefix = ''): TensorSource {
    const single = join(dir, 'model.safetensors');
    const index = join(dir, 'model.safetensors.index.json');
    if (existsSync(single)) return new TensorSource([SafetensorsFile.open(single)], prefix);
    if (existsSync(index)) {
      const map = JSON.parse(readFileSync(index, 'utf8')).weight_map as Record<string, string>;
      const shards = [...new Set(Object.values(map))].map((f) => SafetensorsFile.open(join(dir, f)));
      return new TensorSource(shards, prefix);
    }
    const bin = join(dir, 'pytorch_model.bin');
    if (existsSync(bin)) {
      const f = new TorchBinFile(bin);
      return new TensorSource([{ names: () => f.names(), shape: (n) => f.shape(n), float32: (n) => f.get(n) }], prefix);
    }
    throw new Error(`${dir}: no checkpoint found (model.safetensors, model.safetensors.index.json or pytorch_model.bin)`);
  }
  names(): string[] {
    return [...this.files.keys()].filter((n) => n.startsWith(this.prefix)).map((n) => n.slice(this.prefix.length));
  }
  has(n: string): boolean {
    return this.files.has(this.prefix + n);
  }
  shape(n: string): number[] {
    return this.files.get(this.prefix + n)!.shape(this.prefix + n);
  }
  get(n: string): Float32Array {
    return this.files.get(this.prefix + n)!.float32(this.prefix + n);
  }
}

/** What loading found. */
export interface LoadReport {
  missing: string[];
  unexpected: string[];
}

/**
 * Loads `source` into `model`. Missing or unexpected names are an error (listing all of them)
 * unless they match `allowMissing` / `allowUnexpected` (e.g. pooler weights, `position_ids`).
 */
export function loadInto(model: Module, source: TensorSource, opts: { allowMissing?: RegExp[]; allowUnexpected?: RegExp[]; what?: string } = {}): LoadReport {
  const r = model.loadFrom(source);
  const badMissing = r.missing.filter((n) => !opts.allowMissing?.some((re) => re.test(n)));
  const badUnexpected = r.unexpected.filter((n) => !opts.allowUnexpected?.some((re) => re.test(n)));
  if (badMissing.length || badUnexpected.length) {
    const parts = [];
    if (badMissing.length) parts.push(`missing from the checkpoint (${badMissing.length}): ${badMissing.join(', ')}`);
    if (badUnexpected.length) parts.push(`in the checkpoint but not in the model (${badUnexpected.length}): ${badUnexpected.join(', ')}`);
    throw new Error(`${opts.what ?? 'checkpoint'}: ${parts.join('; ')}`);
  }
  return r;
}
