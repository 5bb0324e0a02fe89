/**
 * matmul — `C = op(A) · op(B)`, 2-D or batched, where op is identity or transpose
 * (`transA`, `transB`): transposed operands are read in place, never copied.
 * PyTorch: `torch.matmul(a, b)`, `a.mT`, `b.mT`; `linear` = `matmul(x, W, {transB: true}) + b`.
 *
 * Variants (same math; the registry, `src/kernels/registry.ts`, says when each runs):
 * - `matmul.wgsl` — portable: 64×64 tiles in workgroup memory, 4×4 register block per thread.
 * - `matmul.subgroup.wgsl` — lavapipe-fast: A shared across lanes with `subgroupBroadcast`,
 *   16 rows × 4 columns (two blocks of 8 vec4 accumulators) per thread; needs K % 4 = 0, N % 4 = 0 and subgroups ≥ 8 lanes.
 * - `matmul.naive.wgsl` — one invocation per output, no workgroup memory: CPU adapters' choice
 *   for the shapes the subgroup kernel cannot take.
 *
 * Every variant has an epilogue run as it stores C — `act(C + bias) + residual` — so a Linear
 * layer's bias, a GELU (without gradients) and a residual connection need no pass of their own.
 *
 * Backward (C = A·B + bias): dA = dC·Bᵀ, dB = Aᵀ·dC, each again a matmul with transpose flags,
 * summed over broadcast batch dimensions; dbias = dC summed over every row. FLOPs: 2·batch·M·N·K.
 * @module
 */
import { deviceInfo } from '../tensor/device.js';
import { dispatch, grid } from '../tensor/runtime.js';
import { Tensor, record, fmt, numel, isGradEnabled } from '../tensor/tensor.js';
import { broadcastShapes } from '../tensor/shape.js';
import { expectDType } from './util.js';
import { pad, narrow } from './copy.js';
import { sumTo, broadcastTo } from './reduce.js';
import { add } from './binary.js';
import { gelu } from './unary.js';
import { kernel, chooseVariant, forcedVariant, type VariantName } from './registry.js';

/** Transpose flags. */
export interface MatmulOptions {
  /** Read A as transposed: A is stored [..., K, M]. */
  transA?: boolean;
  /** Read B as transposed: B is stored [..., N, K] (a Linear weight). */
  transB?: boolean;
  /** Added to every row of the result: shape [N]. */
  bias?: Tensor | null;
  /** Applied after the bias: `gelu` (HF's exact GELU). Fused only without gradients (its backward needs the input, which the kernel does not keep). */
  activation?: 'gelu' | null;
  /** Added last, after the activation: the result's shape (a residual connection). */
  residual?: Tensor | null;
}

/** What a launch adds as it stores C. */
interface Epilogue {
  bias: Tensor | null;
  gelu: boolean;
  residual: Tensor | null;
}

/** Which kernel variant runs a problem. */
export type MatmulVariant = VariantName<'matmul'>;

/** The variant for a problem on this adapter (the registry's rule, or the forced variant). */
export function matmulVariant(M: number, N: number, K: number, transA: boolean, transB: boolean, aligned = true): MatmulVariant {
  return chooseVariant('matmul', { M, N, K, transA, transB, aligned });
}

/**
 * Launches one (batched) product into `c`, with its epilogue; shapes already checked. `lda` and
 * `ldb` are the stored rows' strides (default: dense).
 */
function launch(a: Tensor, b: Tensor, c: Tensor, epi: Epilogue, batch: number, M: number, N: number, K: number, ta: boolean, tb: boolean, aBatch: number, bBatch: number,
  lda = ta ? M : K, ldb = tb ? K : N): void {
  const params = [M, N, K, lda, aBatch, bBatch, M * N, ldb];
  // The kernels read B, and A unless transposed, as vec4 rows; a transposed A is read by scalars.
  const aligned = [...(ta ? [] : [lda, aBatch]), ldb, bBatch].every((v) => v % 4 === 0);
  const variant = matmulVariant(M, N, K, ta, tb, aligned);
  // Bias and residual bindings that are off get A's buffer: bound read-only like A, never read.
  const buffers = [a.buffer, b.buffer, c.buffer, (epi.bias ?? a).buffer, (epi.residual ?? a).buffer];
  const e = { BIAS: epi.bias ? 1 : 0, ACT: epi.gelu ? 1 : 0, RESIDUAL: epi.residual ? 1 : 0 };
  if (variant === 'naive') {
    const [x, y] = grid(M * N);
    dispatch(kernel('matmul', 'naive'), {
      buffers, params, constants: { TA: ta ? 1 : 0, TB: tb ? 1 : 0, ...e }, workgroups: [x, y, batch], work: 2 * M * N * K * batch * 3,
    });
  } else if (variant === 'subgroup') {
    // A transposed A is read as vec4 where its rows and batches are vec4-aligned (1.1-1.2× on dW).
    const entry = ta ? ([M, lda, aBatch].every((v) => v % 4 === 0) ? 'tn4' : 'tn') : tb ? 'nt' : 'nn';
    const WG = subgroupWorkgroupSize(N);
    const ROWS = M > 8 ? 16 : 8;
    const STRIDED = lda !== (ta ? M : K) || ldb !== (tb ? K : N) ? 1 : 0;
    dispatch({ ...kernel('matmul', 'subgroup'), entry }, {
      buffers, params, constants: { WG, ROWS, STRIDED, ...e }, workgroups: [Math.ceil(N / 4 / WG), Math.ceil(M / ROWS), batch],
      work: 2 * M * N * K * batch,
    });
  } else {
    dispatch(kernel('matmul', 'tiled'), {
      buffers, params, constants: { TA: ta ? 1 : 0, TB: tb ? 1 : 0, ...e },
      workgroups: [Math.ceil(N / 64), Math.ceil(M / 64), batch],
      work: 2 * M * N * K * batch * 6, // the tiled kernel runs ~6× slower on CPU adapters
    });
  }
}

/**
 * Invocations per workgroup of the subgroup kernel: one per 4 output columns, at most 64. A
 * narrow product (N = 64, attention's P·V) would otherwise leave 48 of 64 lanes recomputing the
 * last column: 4× the work.
 */
export function subgroupWorkgroupSize(N: number): number {
  const cols = Math.ceil(N / 4);
  return [8, 16, 32].find((w) => cols <= w) ?? 64;
}

/** `op(a) · op(b)` over the last two dimensions, broadcasting the leading (batch) dimensions. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const ta = !!opts.transA;
  const tb = !!opts.transB;
  expectDType('matmul', 'f32', a, b);
  if (a.ndim < 2 || b.ndim < 2) throw new Error(`matmul: both operands need at least 2 dimensions, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const Kb = tb ? bc : br;
  const N = tb ? br : bc;
  if (K !== Kb) {
    throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)}${ta ? 'ᵀ' : ''} · ${fmt(b.shape)}${tb ? 'ᵀ' : ''} (K = ${K} vs ${Kb})`);
  }
  const bias = opts.bias ?? null;
  if (bias) {
    expectDType('matmul', 'f32', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== N) throw new Error(`matmul: bias must be [${N}] (one value per output column), got ${fmt(bias.shape)}`);
  }
  const residual = opts.residual ?? null;
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  if (residual) {
    expectDType('matmul', 'f32', residual);
    const want = [...broadcastShapes('matmul', aBatchShape, bBatchShape), M, N];
    if (fmt(residual.shape) !== fmt(want)) throw new Error(`matmul: residual must have the result's shape ${fmt(want)}, got ${fmt(residual.shape)}`);
  }
  // GELU's backward needs its input, which the fused kernel does not keep: with gradients, the
  // product (with its bias) is formed and the activation and residual follow as their own ops.
  if (opts.activation && isGradEnabled() && [a, b, bias, residual].some((t) => t?.requiresGrad)) {
    const y = gelu(matmul(a, b, { transA: ta, transB: tb, bias }));
    return residual ? add(y, residual) : y;
  }
  // A batched A times a 2-D B is one big 2-D product: fold the batch into M.
  if (!ta && aBatchShape.length > 0 && numel(bBatchShape) === 1) {
    const a2 = a.reshape([numel(aBatchShape) * M, K]);
    const b2 = bBatchShape.length ? b.reshape([b.shape.at(-2)!, b.shape.at(-1)!]) : b;
    const c2 = matmul(a2, b2, { ...opts, residual: residual?.reshape([numel(aBatchShape) * M, N]) });
    const c = c2.reshape([...aBatchShape, M, N]);
    c2.dispose(); // the view keeps the buffer; the caller may free the product as soon as it is done with it
    return c;
  }
  // On CPU adapters a large problem whose K or N is not a multiple of 4 would fall to the naive
  // kernel; zero-padding K and N to multiples of 4 (zeros add nothing) lets the subgroup kernel
  // run it, and the extra columns are sliced off. Pad and slice carry the gradients.
  const info = deviceInfo();
  if (info.isCpu && !forcedVariant('matmul') && (K % 4 || N % 4) && 2 * M * N * K * Math.max(1, numel(aBatchShape), numel(bBatchShape)) > 1 << 24 &&
      matmulVariant(M, N + ((4 - (N % 4)) % 4), K + ((4 - (K % 4)) % 4), ta, tb) === 'subgroup') {
    const padK = (4 - (K % 4)) % 4;
    const padN = (4 - (N % 4)) % 4;
    const padAt = (t: Tensor, dim: number, n: number): Tensor => (n ? pad(t, t.shape.map(() => 0), t.shape.map((_, i) => (i === t.ndim + dim ? n : 0))) : t);
    const a2 = padAt(a, ta ? -2 : -1, padK);
    const b2 = padAt(padAt(b, tb ? -1 : -2, padK), tb ? -2 : -1, padN);
    const c2 = matmul(a2, b2, { ...opts, bias: bias && padAt(bias, -1, padN), residual: residual && padAt(residual, -1, padN) });
    if (!padN) return c2;
    // The padded product and, without gradients, the padded operands are this call's own:
    // nothing reads them once the columns are sliced off.
    const c = narrow(c2, -1, 0, N);
    c2.dispose();
    if (!c.requiresGrad) for (const [t, orig] of [[a2, a], [b2, b]] as const) if (t !== orig) t.dispose();
    return c;
  }
  const batchShape = broadcastShapes('matmul', aBatchShape, bBatchShape);
  const batch = numel(batchShape);
  let A = a;
  let B = b;
  const aN = numel(aBatchShape);
  const bN = numel(bBatchShape);
  // Batches that differ other than by being 1 are expanded (rare: not used by the models).
  if (aN !== batch && aN !== 1) A = broadcastTo(a, [...batchShape, ar, ac]);
  if (bN !== batch && bN !== 1) B = broadcastTo(b, [...batchShape, br, bc]);
  const out = new Tensor([...batchShape, M, N], 'f32');
  launch(A, B, out, { bias, gelu: opts.activation === 'gelu', residual }, batch, M, N, K, ta, tb, numel(A.shape.slice(0, -2)) === 1 ? 0 : M * K, numel(B.shape.slice(0, -2)) === 1 ? 0 : K * N);
  const extra = [bias, residual].filter((t): t is Tensor => t !== null);
  return record('matmul', out, [A, B, ...extra], (g) => {
    let dA: Tensor | null = null;
    let dB: Tensor | null = null;
    if (A.requiresGrad) {
      dA = !ta ? matmul(g, B, { transB: !tb }) : matmul(B, g, { transA: tb, transB: true });
      dA = sumTo(dA, A.shape);
    }
    if (B.requiresGrad) {
      dB = !tb ? matmul(A, g, { transA: !ta }) : matmul(g, A, { transA: true, transB: ta });
      dB = sumTo(dB, B.shape);
    }
    // d bias = column sums of dC; d residual = dC (not consumed: it is the incoming gradient).
    const dBias = bias ? [bias.requiresGrad ? sumTo(g, bias.shape, false) : null] : [];
    const dRes = residual ? [residual.requiresGrad ? g : null] : [];
    return [dA, dB, ...dBias, ...dRes];
  });
}

/** Where and how {@link matmulInPlace} reads its operands and what it computes. */
export interface InPlaceProduct {
  batch: number;
  M: number;
  N: number;
  K: number;
  /** Read A as transposed: stored [K, M]. */
  transA?: boolean;
  /** Read B as transposed: stored [N, K]. */
  transB?: boolean;
  /** Strides, in elements, between A's stored rows (of K values, or of M with transA) and between its batch items. */
  lda: number;
  aBatch: number;
  /** Strides between B's stored rows (of N values, or of K with transB) and between batch items (0: shared). */
  ldb: number;
  bBatch: number;
}

/**
 * The product of matrices read in place out of another layout, by row strides — no autograd, no
 * padding. What lets an op read a matrix that is not stored as one: conv1dFrames
 * reads a signal's overlapping frames as the rows of A (row stride = hop, less than the row
 * length). C is dense [batch, M, N]; `bias` [N] and GELU are applied as it is stored.
 */
export function matmulInPlace(a: Tensor, b: Tensor, s: InPlaceProduct, epi: { bias?: Tensor | null; gelu?: boolean } = {}): Tensor {
  const { batch, M, N, K, lda, aBatch, ldb, bBatch } = s;
  const ta = !!s.transA;
  const tb = !!s.transB;
  expectDType('matmul', 'f32', a, b);
  if (ta && tb) throw new Error('matmulInPlace: A and B cannot both be transposed');
  const lastA = (batch - 1) * aBatch + (ta ? (K - 1) * lda + M - 1 : (M - 1) * lda + K - 1);
  const lastB = (batch - 1) * bBatch + (tb ? (N - 1) * ldb + K - 1 : (K - 1) * ldb + N - 1);
  if (lastA >= a.size || lastB >= b.size) throw new Error(`matmul: strided read past the end of ${lastA >= a.size ? `A (element ${lastA} of ${a.size})` : `B (element ${lastB} of ${b.size})`}`);
  const c = new Tensor([batch, M, N], 'f32');
  launch(a, b, c, { bias: epi.bias ?? null, gelu: !!epi.gelu, residual: null }, batch, M, N, K, ta, tb, aBatch, bBatch, lda, ldb);
  return c;
}

/**
 * `act(x · Wᵀ + b) + residual` with `W` stored [out, in] as in `nn.Linear` / Hugging Face
 * checkpoints; bias, activation and residual are added by the matmul as it stores.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, o: { activation?: 'gelu' | null; residual?: Tensor | null } = {}): Tensor {
  return matmul(x, w, { transB: true, bias: b ?? null, ...o });
}
