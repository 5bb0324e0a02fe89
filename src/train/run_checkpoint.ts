/**
 * Run checkpoints (a run folder's `last/` and `best/`; loading Hugging Face weights into a model
 * is `src/model/weights.ts`): `model.safetensors` (parameters, Hugging Face-style names),
 * `optimizer.safetensors` (AdamW moments) and `state.json` (config, labels, epoch, step, RNG
 * state, best metric, history). Each file is written atomically (temp file + rename) and
 * `state.json` last, so an interrupted save leaves the previous checkpoint usable.
 * @module
 */
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { writeAtomic } from '../util/fs.js';
import { join } from 'node:path';
import { writeSafetensors, SafetensorsFile, type STWrite } from '../model/safetensors.js';
import type { Module } from '../model/module.js';
import type { AdamW } from './optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

/** Saves parameters (minus `exclude`d names), optimizer moments and a JSON state. */
export async function saveCheckpoint(dir: string, model: Module, opt: AdamW | null, state: object, exclude?: (name: string) => boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const params: Record<string, STWrite> = {};
  const names = new Map<Tensor, string>();
  for (const [n, t] of model.namedParameters()) {
    names.set(t, n);
    if (exclude?.(n)) continue;
    params[n] = { dtype: 'F32', shape: [...t.shape], data: (await t.toArray()) as Float32Array };
  }
  writeSafetensors(join(dir, 'model.safetensors'), params);
  if (opt) {
    const st = await opt.stateDict(names);
    const out: Record<string, STWrite> = {};
    for (const [k, v] of Object.entries(st)) out[k] = { dtype: 'F32', shape: [v.length], data: v };
    writeSafetensors(join(dir, 'optimizer.safetensors'), out, { step: String(opt.stepCount) });
  }
  writeAtomic(join(dir, 'state.json'), JSON.stringify(state, null, 2));
}

/** Reads `state.json` of a checkpoint folder. */
export function readState<T>(dir: string): T {
  const p = join(dir, 'state.json');
  if (!existsSync(p)) throw new Error(`${dir}: no checkpoint here (state.json missing)`);
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}

/** Loads parameters (and optimizer moments, when given) from a checkpoint folder. */
export function loadCheckpoint(dir: string, model: Module, opt?: AdamW): void {
  const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
  const r = model.loadFrom({ has: (n) => f.entries.has(n), shape: (n) => f.shape(n), get: (n) => f.float32(n), names: () => f.names() });
  if (r.unexpected.length) throw new Error(`${dir}: checkpoint tensors that the model does not have: ${r.unexpected.join(', ')}`);
  if (opt) {
    const o = SafetensorsFile.open(join(dir, 'optimizer.safetensors'));
    const state: Record<string, Float32Array> = {};
    for (const n of o.names()) state[n] = o.float32(n);
    const names = new Map<Tensor, string>();
    for (const [n, t] of model.namedParameters()) names.set(t, n);
    opt.loadStateDict(names, state, Number(o.metadata.step ?? 0));
  }
}
