/**
 * Loading Hugging Face checkpoint folders into modules: `model.safetensors`, shards listed in
 * `model.safetensors.index.json`, or `pytorch_model.bin` (read without running its pickle). Every parameter is checked; missing, unexpected and wrongly
 * shaped tensors are reported together, by name. Tensors are read lazily, one at a time.
 * @module
 */
import { SafetensorsFile, overBindingLimit } from './safetensors_core.js';
import { deviceInfo } from '../tensor/device.js';
import { filesOf, joinName, type ModelFiles, type TensorFile } from './model_files.js';
import { Embedding, type Module } from './module.js';

export type { TensorFile } from './model_files.js';

/** A set of named tensors from one or more checkpoint files. */
export class TensorSource {
  private files = new Map<string, TensorFile>();
  constructor(files: TensorFile[], private readonly prefix = '') {
    for (const f of files) for (const n of f.names()) this.files.set(n, f);
  }
  /** Opens a checkpoint folder (single file or sharded), on disk (Node) or as given files. */
  static fromFolder(dir: string | ModelFiles, prefix = ''): TensorSource {
    const files = filesOf(dir);
    const open = (name: string): SafetensorsFile => SafetensorsFile.fromSource(files.source(name), joinName(files.where, name));
    if (files.has('model.safetensors')) return new TensorSource([open('model.safetensors')], prefix);
    if (files.has('model.safetensors.index.json')) {
      const map = JSON.parse(files.text('model.safetensors.index.json')).weight_map as Record<string, string>;
      return new TensorSource([...new Set(Object.values(map))].map(open), prefix);
    }
    if (files.has('pytorch_model.bin')) {
      if (!files.torchbin) throw new Error(`${joinName(files.where, 'pytorch_model.bin')}: these files cannot read pytorch_model.bin; give model.safetensors here`);
      return new TensorSource([files.torchbin('pytorch_model.bin')], prefix);
    }
    throw new Error(`${files.where}: no checkpoint found (model.safetensors, model.safetensors.index.json or pytorch_model.bin)`);
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
 * Refuses a model with a parameter larger than the adapter's largest storage binding
 * (`maxStorageBufferBindingSize`: 128 MiB on lavapipe and some browsers' adapters): kernels could
 * not bind it, so the error names it now, with the limit. Embedding tables are exempt: the
 * embedding kernel gathers and scatters them in chunks that fit (roberta-base's 147 MiB word
 * embedding on lavapipe; RoBERTa-large's 196 MiB).
 */
export function checkBindingLimits(model: Module, what = 'model', limit = deviceInfo().limits.maxStorageBufferBindingSize): void {
  const chunked = new Set([...model.namedModules().values()].filter((m) => m instanceof Embedding).map((m) => (m as Embedding).weight));
  const big = [...model.namedParameters()].filter(([, t]) => t.size * 4 > limit && !chunked.has(t));
  if (big.length) {
    throw new Error(`${overBindingLimit(what, big.map(([n, t]) => [n, t.shape, t.size * 4]), limit)}. ` +
      'Kernels cannot bind it here: use a smaller model (e.g. the base size), or an adapter (browser, GPU) with a larger limit.');
  }
}

/**
 * Loads `source` into `model`. Missing or unexpected names are an error (listing all of them)
 * unless they match `allowMissing` / `allowUnexpected` (e.g. pooler weights, `position_ids`).
 */
export function loadInto(model: Module, source: TensorSource, opts: { allowMissing?: RegExp[]; allowUnexpected?: RegExp[]; what?: string } = {}): LoadReport {
  checkBindingLimits(model, opts.what);
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
