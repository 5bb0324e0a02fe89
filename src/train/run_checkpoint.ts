/**
 * Run checkpoints (a run folder's `last/` and `best/`; loading Hugging Face weights into a model
 * is `src/model/weights.ts`): `model.safetensors` (parameters, Hugging Face-style names),
 * `optimizer.safetensors` (AdamW moments) and `state.json` (config, labels, epoch, step, RNG
 * state, best metric, history, and the SHA-256 of the other two files).
 *
 * A checkpoint is one unit. It is written whole into `<dir>.partial/`, then swapped in by two
 * renames (`<dir>` → `<dir>.old`, `<dir>.partial` → `<dir>`): a process killed while writing
 * leaves the previous checkpoint in place, one killed between the renames leaves it in
 * `<dir>.old`, where readers find it. Loading checks each file against the hash in `state.json`,
 * so files from two different saves are never combined.
 * @module
 */
import { mkdirSync, readFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeAtomic } from '../util/fs.js';
import { writeSafetensors, SafetensorsFile, type STWrite } from '../model/safetensors.js';
import type { Module } from '../model/module.js';
import type { AdamW } from './optimizer.js';
import { readAll, type Tensor } from '../tensor/tensor.js';

/** A checkpoint that cannot be used as it is; the message says which file and what to do. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Puts back a checkpoint left in `<dir>.old` by a save killed between its two renames. */
function recover(dir: string): void {
  if (!existsSync(dir) && existsSync(join(`${dir}.old`, 'state.json'))) renameSync(`${dir}.old`, dir);
}

/** True when `dir` holds a complete checkpoint (or one left in `<dir>.old`). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'state.json')) || existsSync(join(`${dir}.old`, 'state.json'));
}

/** Saves parameters (minus `exclude`d names), optimizer moments and a JSON state, as one unit. */
export async function saveCheckpoint(dir: string, model: Module, opt: AdamW | null, state: object, exclude?: (name: string) => boolean): Promise<void> {
  // Everything is read back from the GPU before the disk is touched.
  const params: Record<string, STWrite> = {};
  const names = new Map<Tensor, string>();
  const kept: Array<[string, Tensor]> = [];
  for (const [n, t] of model.namedParameters()) {
    names.set(t, n);
    if (!exclude?.(n)) kept.push([n, t]);
  }
  const data = await readAll(kept.map(([, t]) => t));
  kept.forEach(([n, t], i) => (params[n] = { dtype: 'F32', shape: [...t.shape], data: data[i] as Float32Array }));
  const moments = opt ? await opt.stateDict(names) : null;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeSafetensors(join(tmp, 'model.safetensors'), params);
  const files: Record<string, string> = { 'model.safetensors': sha256(join(tmp, 'model.safetensors')) };
  if (opt && moments) {
    const out: Record<string, STWrite> = {};
    for (const [k, v] of Object.entries(moments)) out[k] = { dtype: 'F32', shape: [v.length], data: v };
    writeSafetensors(join(tmp, 'optimizer.safetensors'), out, { step: String(opt.stepCount) });
    files['optimizer.safetensors'] = sha256(join(tmp, 'optimizer.safetensors'));
  }
  writeAtomic(join(tmp, 'state.json'), JSON.stringify({ ...state, checkpointFiles: files }, null, 2));
  const old = `${dir}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** Checks a checkpoint's files against the hashes its `state.json` recorded. */
function verify(dir: string, files: Record<string, string> | undefined, which: string[]): void {
  if (!files) return; // written before hashes were recorded
  for (const f of which) {
    const want = files[f];
    if (!want) continue;
    const p = join(dir, f);
    if (!existsSync(p)) throw new CheckpointError(`${dir}: ${f} is missing; the checkpoint is incomplete. Delete ${dir} to start over, or resume from another checkpoint.`);
    if (sha256(p) !== want) {
      throw new CheckpointError(`${dir}: ${f} does not match the hash recorded in state.json (the two were written by different saves); refusing to combine them. Delete ${dir} to start over, or restore the file.`);
    }
  }
}

/** Reads `state.json` of a checkpoint folder. */
export function readState<T>(dir: string): T {
  recover(dir);
  const p = join(dir, 'state.json');
  if (!existsSync(p)) throw new Error(`${dir}: no checkpoint here (state.json missing)`);
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}

/** Loads parameters (and optimizer moments, when given) from a checkpoint folder. */
export function loadCheckpoint(dir: string, model: Module, opt?: AdamW): void {
  recover(dir);
  const { checkpointFiles } = readState<{ checkpointFiles?: Record<string, string> }>(dir);
  verify(dir, checkpointFiles, opt ? ['model.safetensors', 'optimizer.safetensors'] : ['model.safetensors']);
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
