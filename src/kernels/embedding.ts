/**
 * embedding — `F.embedding(ids, W, padding_idx)`: a row gather (`wgsl/embedding.wgsl`).
 * Backward scatter-adds rows without atomics: the host groups positions by id (a CSR list) and
 * one invocation per (id, column) sums its rows. The padding row gets no gradient.
 * Index tensors made with `fromArray` keep a host copy, which is what the CSR list and the range
 * check read; ids are checked before any GPU work, so a bad id is an error, not a wrong answer.
 * Tables larger than one storage binding (roberta-base's 154 MB on lavapipe's 128 MB limit) are
 * gathered and scattered in row chunks.
 * @module
 */
import { Tensor, record, fromArray, fmt } from '../tensor/tensor.js';
import { expectDType, launch1d, rowChunks } from './util.js';
import { fillInto } from './fill.js';
import { kernel } from './registry.js';

/** Rows of `W` [V, D] picked by integer `ids` (any shape) → [...ids.shape, D]. */
export function embedding(ids: Tensor, W: Tensor, paddingIdx?: number): Tensor {
  expectDType('embedding', 'i32', ids);
  expectDType('embedding', 'f32', W);
  if (W.ndim !== 2) throw new Error(`embedding: weight must be [V, D], got ${fmt(W.shape)}`);
  const [V, D] = W.shape as [number, number];
  const host = ids.host;
  if (!host) throw new Error('embedding: ids need a host copy (create them with fromArray(..., "i32"))');
  for (let i = 0; i < host.length; i++) {
    const v = host[i]!;
    if (v < 0 || v >= V) throw new Error(`embedding: id ${v} at flat position ${i} is out of range [0, ${V})${W.name ? ` for ${W.name}` : ''}`);
  }
  const n = ids.size;
  const out = new Tensor([...ids.shape, D], 'f32');
  const chunks = rowChunks(V, D);
  for (const [first, count, offset, size] of chunks) {
    const w = chunks.length === 1 ? W.buffer : { buffer: W.buffer, offset, size };
    launch1d(kernel('embedding'), n * D, [w, ids.buffer, out.buffer], [n, D, 0, first, count]);
  }
  return record('embedding', out, [W], (g) => {
    const byId = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const v = host[i]!;
      if (v === paddingIdx) continue;
      let l = byId.get(v);
      if (!l) byId.set(v, (l = []));
      l.push(i);
    }
    const uids = [...byId.keys()];
    const ptr = [0];
    const pos: number[] = [];
    for (const u of uids) {
      pos.push(...byId.get(u)!);
      ptr.push(pos.length);
    }
    const dW = new Tensor(W.shape, 'f32');
    fillInto(dW, 0, 0);
    if (uids.length) {
      const tu = fromArray(uids, [uids.length], 'i32');
      const tp = fromArray(ptr, [ptr.length], 'u32');
      const tpos = fromArray(pos, [pos.length], 'u32');
      for (const [first, count, offset, size] of chunks) {
        const dw = chunks.length === 1 ? dW.buffer : { buffer: dW.buffer, offset, size };
        launch1d(kernel('embedding'), uids.length * D, [g.buffer, tu.buffer, tp.buffer, tpos.buffer, dw], [n, D, uids.length, first, count], undefined, 'backward');
      }
      for (const t of [tu, tp, tpos]) t.dispose();
    }
    return [dW];
  });
}
