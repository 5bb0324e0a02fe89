/**
 * cross_entropy — fused log-softmax + class-weighted NLL (`wgsl/cross_entropy.wgsl`), mean
 * reduction as PyTorch defines it with weights: Σ_i w[y_i]·nll_i / Σ_i w[y_i]; `ignoreIndex`;
 * optional label smoothing. The backward is one elementwise kernel that recomputes the softmax
 * from the saved logsumexp and reads the upstream gradient and Σ w[y_i] from GPU buffers (no
 * readback). {@link crossEntropyComposed} builds the same loss from basic ops, as the reference.
 * Plus {@link classWeights}: w_c = N / (C · n_c).
 * @module
 */
import { f32, dispatch, grid } from '../tensor/runtime.js';
import { Tensor, record, fmt, fromArray, noGrad } from '../tensor/tensor.js';
import { full } from './fill.js';
import { expectDType, launch1d } from './util.js';
import { sum } from './reduce.js';
import { div, mul } from './binary.js';
import { logSoftmax } from './softmax.js';
import { neg } from './unary.js';
import { concat } from './copy.js';
import { embedding } from './embedding.js';
import { kernel } from './registry.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Per-class weights [C] (default all 1). */
  weight?: Tensor | null;
  /** Targets equal to this are skipped (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** Label smoothing ε in [0, 1). */
  labelSmoothing?: number;
}

function check(logits: Tensor, target: Tensor, o: CrossEntropyOptions): [number, number] {
  expectDType('cross_entropy', 'f32', logits);
  expectDType('cross_entropy', 'i32', target);
  if (logits.ndim !== 2) throw new Error(`cross_entropy: logits must be [N, C], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape as [number, number];
  if (target.ndim !== 1 || target.shape[0] !== N) throw new Error(`cross_entropy: target ${fmt(target.shape)} does not match logits ${fmt(logits.shape)} (need [${N}])`);
  if (o.weight && (o.weight.ndim !== 1 || o.weight.shape[0] !== C)) throw new Error(`cross_entropy: weight ${fmt(o.weight.shape)} does not match ${C} classes`);
  const ignore = o.ignoreIndex ?? -100;
  if (target.host) {
    target.host.forEach((t, i) => {
      if (t !== ignore && (t < 0 || t >= C)) throw new Error(`cross_entropy: target ${t} at row ${i} is not a class in [0, ${C}) (nor ignore_index ${ignore})`);
    });
  }
  const eps = o.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new Error(`cross_entropy: label smoothing ${eps} must be in [0, 1)`);
  return [N, C];
}

/** Weighted cross-entropy of logits [N, C] against integer targets [N]; a scalar. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const [N, C] = check(logits, target, o);
  const ignore = o.ignoreIndex ?? -100;
  const eps = o.labelSmoothing ?? 0;
  const w = o.weight ?? full([C], 1);
  const rowLoss = new Tensor([N], 'f32');
  const rowW = new Tensor([N], 'f32');
  const lse = new Tensor([N], 'f32');
  const params = [N, C, ignore, f32(eps)];
  launch1d(kernel('cross_entropy'), N, [logits.buffer, target.buffer, w.buffer, rowLoss.buffer, rowW.buffer, lse.buffer], params, undefined, undefined, 300 * N * C);
  const { loss, wTotal } = noGrad(() => {
    const sl = sum(rowLoss);
    const sw = sum(rowW);
    const l = div(sl, sw);
    sl.dispose();
    rowLoss.dispose();
    rowW.dispose();
    return { loss: l, wTotal: sw };
  });
  const out = record('cross_entropy', loss, [logits], (g) => {
    const wsum = sum(w).reshape([1]);
    const gs = concat([g.reshape([1]), wTotal.reshape([1]), wsum], 0);
    wsum.dispose();
    const dz = new Tensor(logits.shape, 'f32');
    dispatch({ ...kernel('cross_entropy'), entry: 'backward' }, {
      buffers: [logits.buffer, target.buffer, w.buffer, null, null, lse.buffer, gs.buffer, dz.buffer], params, workgroups: grid(N * C), work: 100 * N * C,
    });
    gs.dispose();
    return [dz];
  });
  if (!out.requiresGrad) {
    lse.dispose();
    wTotal.dispose();
    if (!o.weight) w.dispose();
  }
  return out;
}

/** The same loss (no smoothing, no ignore) from basic ops: −Σ w[y]·logp[y] / Σ w[y]. */
export function crossEntropyComposed(logits: Tensor, target: Tensor, weight?: Tensor | null): Tensor {
  const [N, C] = check(logits, target, { weight });
  const host = target.host!;
  const onehot = new Float32Array(N * C);
  host.forEach((t, i) => (onehot[i * C + t] = 1));
  const oh = fromArray(onehot, [N, C]);
  const w = weight ?? full([C], 1);
  const wy = embedding(target, w.reshape([C, 1])).reshape([N]); // w[y_i]
  const nll = neg(sum(mul(logSoftmax(logits), oh), 1));
  return div(sum(mul(nll, wy)), sum(wy));
}

/** Options of {@link classWeights}. */
export interface ClassWeightOptions {
  /** Give a class with no sample weight 0 (the Crab authors' code) instead of an error. */
  zeroForMissing?: boolean;
  /** Class names for the error message. */
  names?: readonly string[];
}

/** w_c = N / (C · n_c) from integer labels in [0, C). */
export function classWeights(labels: ArrayLike<number>, C: number, o: ClassWeightOptions = {}): Float32Array {
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!(l >= 0 && l < C && Number.isInteger(l))) throw new Error(`classWeights: label ${l} at position ${i} is not a class in [0, ${C})`);
    counts[l]!++;
  }
  const missing = counts.map((n, c) => (n === 0 ? c : -1)).filter((c) => c >= 0);
  if (missing.length && !o.zeroForMissing) {
    const names = missing.map((c) => (o.names ? `${o.names[c]} (${c})` : String(c)));
    throw new Error(`classWeights: class ${names.join(', ')} has no sample in the training labels; ` +
      'remove the class from the label set, add data, or pass zeroForMissing to weight it 0');
  }
  return Float32Array.from(counts, (n) => (n === 0 ? 0 : labels.length / (C * n)));
}

