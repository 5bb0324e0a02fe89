/**
 * gru — the recurrence of a bidirectional `nn.GRU` (`wgsl/gru.wgsl`): one launch runs every
 * time step of both directions (a workgroup per sequence and direction, the state in workgroup
 * memory). Input projections and weight gradients are matmuls around it:
 *   gi = x·W_ihᵀ + b_ih  (one matmul for both directions)  →  recurrence  →  out [B, T, 2H]
 *   backward: the kernel gives the gate gradients dgi (input side) and dgh (hidden side);
 *   dW_hh = dghᵀ·h_prev (one batched matmul), db_hh = Σ dgh; dx, dW_ih follow from gi's matmul.
 * Per-sequence lengths follow PyTorch's packed sequences: padded steps output 0, never touch
 * the state and get no gradient. The final states h_n are returned without gradient.
 * @module
 */
import { dispatch } from '../tensor/runtime.js';
import { deviceInfo } from '../tensor/device.js';
import { Tensor, record, fmt, noGrad } from '../tensor/tensor.js';
import { expectDType } from './util.js';
import { kernel, chooseVariant, type VariantName } from './registry.js';
import { matmul } from './matmul.js';
import { permute } from './copy.js';
import { sum } from './reduce.js';

/** Which recurrence kernel runs (the registry's `gru` variants): `subgroup` on CPU adapters with subgroups when H % 4 = 0, else `plain`. */
export type GruImpl = VariantName<'gru'>;
/** The recurrence kernel for hidden size H on this adapter. */
export function gruImpl(H: number): GruImpl {
  return chooseVariant('gru', { hidden: H });
}

/** Largest hidden size the kernel's workgroup memory holds. */
export const GRU_MAX_HIDDEN = 512;

/**
 * Invocations per workgroup. Each owns ⌈H/WG⌉ ≤ 16 hidden units. On CPU adapters a workgroup of
 * one 8-lane subgroup makes the per-step barrier nearly free (lavapipe's barriers between
 * subgroups are slow); GPUs get 64 lanes.
 */
export function gruWorkgroupSize(H: number): number {
  const min = Math.max(8, Math.ceil(H / 16 / 8) * 8);
  return deviceInfo().isCpu ? min : Math.max(min, 64);
}

/**
 * Runs both directions over gi [B, T, 6H] with W_hh [6H, H] and b_hh [6H] (forward direction's
 * rows first). `lengths` is an i32 tensor [B] with 1 ≤ length ≤ T.
 */
export function gruRecurrence(gi: Tensor, whh: Tensor, bhh: Tensor, lengths: Tensor): { out: Tensor; hN: Tensor } {
  expectDType('gru', 'f32', gi, whh, bhh);
  expectDType('gru', 'i32', lengths);
  const [B, T, H6] = gi.shape as [number, number, number];
  const H = H6 / 6;
  if (gi.ndim !== 3 || !Number.isInteger(H)) throw new Error(`gru: gi must be [B, T, 6H], got ${fmt(gi.shape)}`);
  if (fmt(whh.shape) !== fmt([6 * H, H]) || fmt(bhh.shape) !== fmt([6 * H])) throw new Error(`gru: W_hh ${fmt(whh.shape)} / b_hh ${fmt(bhh.shape)} must be [${6 * H}, ${H}] / [${6 * H}]`);
  if (gruImpl(H) === 'plain' && H > GRU_MAX_HIDDEN) throw new Error(`gru: hidden size ${H} is above the kernel's limit of ${GRU_MAX_HIDDEN}`);
  if (lengths.ndim !== 1 || lengths.shape[0] !== B) throw new Error(`gru: lengths ${fmt(lengths.shape)} must be [${B}]`);
  if (lengths.host) lengths.host.forEach((l, i) => {
    if (l < 1 || l > T) throw new Error(`gru: length ${l} of sequence ${i} is outside [1, ${T}]`);
  });
  const out = new Tensor([B, T, 2 * H], 'f32');
  const saved = new Tensor([B, T, 2, 4 * H], 'f32');
  const hprev = new Tensor([B, T, 2 * H], 'f32');
  const hN = new Tensor([2, B, H], 'f32');
  const params = [B, T, H];
  const work = 2 * 3 * 2 * B * T * H * H * 20;
  if (gruImpl(H) === 'subgroup') return gruSubgroup(gi, whh, bhh, lengths, { out, saved, hprev, hN });
  const constants = { WG: gruWorkgroupSize(H) };
  dispatch(kernel('gru', 'plain'), { buffers: [gi.buffer, whh.buffer, bhh.buffer, lengths.buffer, out.buffer, saved.buffer, hprev.buffer, hN.buffer], params, constants, workgroups: [B, 2], work });
  const res = record('gru', out, [gi, whh, bhh], (g) => {
    const dgi = new Tensor(gi.shape, 'f32');
    const dgh = new Tensor(gi.shape, 'f32');
    dispatch({ ...kernel('gru', 'plain'), entry: 'backward' }, {
      buffers: [g.buffer, whh.buffer, null, lengths.buffer, null, saved.buffer, hprev.buffer, null, dgi.buffer, dgh.buffer], params, constants, workgroups: [B, 2], work,
    });
    return [dgi, ...hiddenWeightGrads(dgh, hprev, B, T, H)];
  });
  if (!res.requiresGrad) {
    saved.dispose();
    hprev.dispose();
  }
  return { out: res, hN };
}

/** dW_hh = dghᵀ·h_prev per direction (one batched matmul) and db_hh = Σ dgh; frees dgh. */
function hiddenWeightGrads(dgh: Tensor, hprev: Tensor, B: number, T: number, H: number): Tensor[] {
  const dghP = permute(dgh.reshape([B * T, 2, 3 * H]), [1, 0, 2]); // [2, B·T, 3H]
  const hP = permute(hprev.reshape([B * T, 2, H]), [1, 0, 2]); // [2, B·T, H]
  const dW = matmul(dghP, hP, { transA: true }).reshape([6 * H, H]);
  const db = sum(dgh.reshape([B * T, 6 * H]), 0);
  for (const t of [dgh, dghP, hP]) t.dispose();
  return [dW, db];
}

/** The subgroup recurrence (`wgsl/gru.subgroup.wgsl`): a workgroup per 8 sequences and direction. */
function gruSubgroup(gi: Tensor, whh: Tensor, bhh: Tensor, lengths: Tensor, o: { out: Tensor; saved: Tensor; hprev: Tensor; hN: Tensor }): { out: Tensor; hN: Tensor } {
  const [B, T, H6] = gi.shape as [number, number, number];
  const H = H6 / 6;
  // Steps to walk: the longest sequence (all T when the lengths live only on the GPU).
  const maxLen = lengths.host ? Math.max(...Array.from(lengths.host as ArrayLike<number>)) : T;
  const params = [B, T, H, maxLen];
  const constants = { WG: Math.ceil(H / 4 / 8) * 8 };
  const workgroups: [number, number] = [Math.ceil(B / 8), 2];
  const work = 2 * 3 * 2 * B * T * H * H * 2;
  const whhT = noGrad(() => permute(whh.reshape([2, 3 * H, H]), [0, 2, 1])); // [2, H, 3H]
  dispatch(kernel('gru', 'subgroup'), { buffers: [gi.buffer, whhT.buffer, bhh.buffer, lengths.buffer, o.out.buffer, o.saved.buffer, o.hprev.buffer, o.hN.buffer], params, constants, workgroups, work });
  whhT.dispose();
  const res = record('gru', o.out, [gi, whh, bhh], (g) => {
    const dgi = new Tensor(gi.shape, 'f32');
    const dgh = new Tensor(gi.shape, 'f32');
    dispatch({ ...kernel('gru', 'subgroup'), entry: 'backward' }, {
      buffers: [g.buffer, null, null, lengths.buffer, null, o.saved.buffer, o.hprev.buffer, null, whh.buffer, dgi.buffer, dgh.buffer], params, constants, workgroups, work,
    });
    return [dgi, ...hiddenWeightGrads(dgh, o.hprev, B, T, H)];
  });
  if (!res.requiresGrad) {
    o.saved.dispose();
    o.hprev.dispose();
  }
  return { out: res, hN: o.hN };
}
