/**
 * contrastive — the multi-positive contrastive loss MLCS uses (StableRep, as in the Crab
 * authors' code) and SupCon (Khosla et al. 2020), fused around one matmul
 * (`wgsl/contrastive.wgsl`):
 *   forward:  normalize rows → S = z·zᵀ (matmul kernel) → per-anchor loss, P_i, lse_i → mean
 *   backward: G = D + Dᵀ from S and the saved lse (one kernel) → dz = G·z (matmul) →
 *             normalization backward (one kernel). No N×N softmax, log or one-hot tensors.
 * Modes: `multipos` (default, τ = 0.1): mean over all N anchors, anchors without a positive
 * count as 0; `supcon` (τ = 0.07): mean over anchors that have a positive (0 if none has).
 * Gradients are w.r.t. the *unnormalized* features. {@link contrastiveComposed} is the
 * reference from basic ops.
 * @module
 */
import { f32, dispatch, grid } from '../tensor/runtime.js';
import { Tensor, record, fmt, fromArray, noGrad, tidy } from '../tensor/tensor.js';
import { full } from './fill.js';
import { expectDType, launch1d } from './util.js';
import { matmul } from './matmul.js';
import { sum } from './reduce.js';
import { div, mul, maximum, minimum } from './binary.js';
import { concat } from './copy.js';
import { sqrt, square, neg, scale } from './unary.js';
import { logSoftmax } from './softmax.js';
import { maskedFill } from './where.js';
import { kernel } from './registry.js';

/** Which loss. */
export type ContrastiveMode = 'multipos' | 'supcon';

/** Options of {@link contrastiveLoss}. */
export interface ContrastiveOptions {
  /** Temperature τ (default 0.1 for multipos, 0.07 for supcon). */
  temperature?: number;
  mode?: ContrastiveMode;
}

function check(features: Tensor, labels: Tensor): [number, number] {
  expectDType('contrastive', 'f32', features);
  expectDType('contrastive', 'i32', labels);
  if (features.ndim !== 2) throw new Error(`contrastive: features must be [N, D], got ${fmt(features.shape)}`);
  const [N, D] = features.shape as [number, number];
  if (labels.ndim !== 1 || labels.shape[0] !== N) throw new Error(`contrastive: labels ${fmt(labels.shape)} do not match features ${fmt(features.shape)} (need [${N}])`);
  return [N, D];
}

/** The contrastive loss of features [N, D] with integer labels [N]; a scalar. */
export function contrastiveLoss(features: Tensor, labels: Tensor, o: ContrastiveOptions = {}): Tensor {
  const [N, D] = check(features, labels);
  const mode = o.mode ?? 'multipos';
  const tau = o.temperature ?? (mode === 'supcon' ? 0.07 : 0.1);
  if (!(tau > 0)) throw new Error(`contrastive: temperature ${tau} must be positive`);
  const params = [N, D, f32(1 / tau)];
  const z = new Tensor([N, D], 'f32');
  const inv = new Tensor([N], 'f32');
  launch1d(kernel('contrastive'), N, [features.buffer, z.buffer, inv.buffer], params, undefined, 'normalize', 300 * N * D);
  const S = noGrad(() => matmul(z, z, { transB: true }));
  const lossRow = new Tensor([N], 'f32');
  const P = new Tensor([N], 'f32');
  const lse = new Tensor([N], 'f32');
  launch1d(kernel('contrastive'), N, [S.buffer, labels.buffer, null, lossRow.buffer, P.buffer, lse.buffer], params, undefined, 'rows', 30 * N * N); // ≈ 2 ns per element on lavapipe
  // tidy frees the temporaries (constants, partial sums) and keeps only the loss and denominator.
  const { loss, denom } = noGrad(() => tidy(() => {
    const dn = mode === 'multipos' ? full([], N) : maximum(sum(minimum(P, full([1], 1))), full([], 1)); // no anchor with a positive: loss 0, not NaN
    return { loss: div(sum(lossRow), dn), denom: dn };
  }));
  lossRow.dispose();
  const out = record('contrastive', loss, [features], (g) => {
    const gd = concat([g.reshape([1]), denom.reshape([1])], 0);
    const G = new Tensor([N, N], 'f32');
    dispatch({ ...kernel('contrastive'), entry: 'grad_logits' }, {
      buffers: [S.buffer, labels.buffer, lse.buffer, P.buffer, gd.buffer, G.buffer], params, workgroups: grid(N * N), work: 200 * N * N,
    });
    const dz = matmul(G, z);
    const df = new Tensor([N, D], 'f32');
    launch1d(kernel('contrastive'), N, [z.buffer, dz.buffer, inv.buffer, features.buffer, null, df.buffer], params, undefined, 'normalize_backward', 300 * N * D);
    for (const t of [gd, G, dz]) t.dispose();
    return [df];
  });
  if (!out.requiresGrad) for (const t of [z, inv, S, P, lse, denom]) t.dispose();
  return out;
}

/** The same losses from basic ops (materializes log-softmax and the positive matrix). */
export function contrastiveComposed(features: Tensor, labels: Tensor, o: ContrastiveOptions = {}): Tensor {
  const [N] = check(features, labels);
  const mode = o.mode ?? 'multipos';
  const tau = o.temperature ?? (mode === 'supcon' ? 0.07 : 0.1);
  const y = labels.host;
  if (!y) throw new Error('contrastiveComposed: labels need a host copy (fromArray)');
  const norm = maximum(sqrt(sum(square(features), 1, true)), full([1], 1e-12));
  const z = div(features, norm);
  const logits = scale(matmul(z, z, { transB: true }), 1 / tau);
  const eye = new Float32Array(N * N);
  const pos = new Float32Array(N * N);
  let counted = 0;
  for (let i = 0; i < N; i++) {
    eye[i * N + i] = 1;
    let c = 0;
    for (let j = 0; j < N; j++) if (j !== i && y[j] === y[i]) c++;
    if (c) counted++;
    for (let j = 0; j < N; j++) if (j !== i && y[j] === y[i]) pos[i * N + j] = 1 / c;
  }
  const logp = logSoftmax(maskedFill(logits, fromArray(eye, [N, N]), -Infinity));
  // −∞·0 on the diagonal would be NaN: zero the diagonal of log p first.
  const safe = maskedFill(logp, fromArray(eye, [N, N]), 0);
  const total = neg(sum(mul(safe, fromArray(pos, [N, N]))));
  return scale(total, 1 / (mode === 'multipos' ? N : Math.max(counted, 1)));
}
