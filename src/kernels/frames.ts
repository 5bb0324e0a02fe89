/**
 * conv1dFrames — a 1-D convolution over channels-last input that reads the unfolded (im2col)
 * matrix in place instead of writing it (`wgsl/frames.wgsl` holds the backward's fold):
 *   x [B, T, Cin], w [Cout, Cin, K] (PyTorch's layout), stride `hop`, no padding, groups 1
 *   → y [B, Tout, Cout],  Tout = ⌊(T − K) / hop⌋ + 1.
 * PyTorch: `F.conv1d(x.transpose(1, 2), w, b, stride).transpose(1, 2)`.
 *
 * Row t of the unfolded matrix is x[b, t·hop … t·hop + K − 1, :]: K·Cin consecutive values of x
 * from element t·hop·Cin. So the matmul reads it with row stride hop·Cin (rows overlap when
 * hop < K) against the weight packed as [Cout, K·Cin] (w permuted, a small copy per call). No
 * K·Cin × Tout matrix is written, and the product comes out [Tout, Cout]: x streams once per 16
 * output rows while the weight stays in cache, where conv1d's channels-first product
 * [Cout, K·Cin] · [K·Cin, Tout] streams the unfolded matrix once per 16 output channels
 * (WavLM's second conv layer: 2–2.5× faster this way on lavapipe).
 *
 * With groups (or padding), each group's channels are first laid out as one sequence over the
 * padded batch, so one batched product over the groups covers every item (WavLM's positional
 * conv: 16 groups, K = 128, where the unfolded matrix would be 5× the binding limit).
 *
 * Backward: dW = dYᵀ · frames (the frames read in place again), dframes = dY · W, and dx is the
 * overlap-add of dframes (`fold`, a gather: deterministic).
 * @module
 */
import { Tensor, record, fmt, isGradEnabled } from '../tensor/tensor.js';
import { expectDType, launch1d } from './util.js';
import { matmul, matmulInPlace } from './matmul.js';
import { permute, pad, narrow, copyInto } from './copy.js';
import { add } from './binary.js';
import { sumTo } from './reduce.js';
import { gelu } from './unary.js';
import { kernel } from './registry.js';
import { full } from './fill.js';
import { deviceInfo } from '../tensor/device.js';

/** Options of {@link conv1dFrames} (PyTorch's names). */
export interface FramesConvOptions {
  /** Hop between frames (the convolution's stride); default 1. */
  stride?: number;
  /** Zeros on both ends of the time axis; default 0. */
  padding?: number;
  /** Channel groups (each output channel sees Cin / groups input channels); default 1. */
  groups?: number;
  /** GELU on the output: fused into the product without gradients, its own op with them. */
  activation?: 'gelu' | null;
}

/**
 * The frame product, recorded with its backward: x [Z, L, C] read as Z sequences of frames
 * (row r of sequence z = x[z, r·hop … r·hop + K − 1, :]), times wp [Zw, N, K·C] (Zw = 1: shared
 * by every z) → [Z, M, N] for the first M frames; bias [N] and GELU applied as it is stored.
 */
function framesProduct(x: Tensor, wp: Tensor, hop: number, K: number, M: number, epi: { bias?: Tensor | null; gelu?: boolean } = {}): Tensor {
  const [Z, L, C] = x.shape as [number, number, number];
  const [Zw, N] = wp.shape as [number, number, number];
  const b = epi.bias ?? null;
  const y = matmulInPlace(x, wp, { batch: Z, M, N, K: K * C, transB: true, lda: hop * C, aBatch: L * C, ldb: K * C, bBatch: Zw === 1 ? 0 : N * K * C }, epi);
  return record('frames', y, b ? [x, wp, b] : [x, wp], (g) => {
    let dx: Tensor | null = null;
    let dwp: Tensor | null = null;
    if (x.requiresGrad) dx = hop === 1 ? transposedGrad(g, wp, x.shape as [number, number, number], K, M) : foldGrad(g, wp, x.shape as [number, number, number], hop, K, M);
    if (wp.requiresGrad) dwp = sumTo(weightGrad(g, x, hop, K, M), wp.shape);
    const db = b?.requiresGrad ? sumTo(g, [N], false) : null;
    return b ? [dx, dwp, db] : [dx, dwp];
  });
}

/**
 * dW of the frame product per sequence, dY_zᵀ · frames_z [Z, N, K·C]: dY read transposed ([M, N]
 * stored), the frames read in place again. The sum runs over the M frames, which the subgroup
 * kernel takes 4 at a time: a remainder of 1–3 frames is its own small product (on copies of
 * those rows, padded with zero frames to 4) added after, rather than sending the whole product
 * to the naive kernel (100× slower on WavLM's conv layers).
 */
function weightGrad(g: Tensor, x: Tensor, hop: number, K: number, M: number): Tensor {
  const [Z, L, C] = x.shape as [number, number, number];
  const N = g.shape[2]!;
  const product = (gs: Tensor, xs: Tensor, rows: number): Tensor => matmulInPlace(gs, xs, {
    batch: Z, M: N, N: K * C, K: rows, transA: true, lda: N, aBatch: gs.shape[1]! * N, ldb: hop * C, bBatch: xs.shape[1]! * C,
  });
  const r = M % 4;
  if (!r) return product(g, x, M);
  // The last r frames, padded with zero frames (and zero gradients) to 4.
  const start = (M - r) * hop;
  const len = 3 * hop + K;
  const xs = narrow(x, 1, start, Math.min(len, L - start));
  const tail = product(pad(narrow(g, 1, M - r, r), [0, 0, 0], [0, 4 - r, 0]), xs.shape[1]! < len ? pad(xs, [0, 0, 0], [0, len - xs.shape[1]!, 0]) : xs, 4);
  if (M < 4) return tail;
  const main = product(g, x, M - r);
  const out = add(main, tail);
  main.dispose();
  tail.dispose();
  return out;
}

/**
 * dx of a hop-1 frame product, as the transposed convolution: dx[s] = Σ_k dY[s − k] · W_k is
 * itself a frame product, over dY padded with K − 1 zero frames before (and after, to x's
 * length), with the weight flipped along k and its channels swapped: wf[c, k, n] = wp[n, K−1−k, c].
 * The same cost as the forward, where dY·W writes K·C values per frame (WavLM's positional conv:
 * 128 × 48 per frame, 6× its input) for the fold to sum.
 */
function transposedGrad(g: Tensor, wp: Tensor, [Z, L, C]: [number, number, number], K: number, M: number): Tensor {
  const [Zw, N] = wp.shape as [number, number, number];
  const wf = new Tensor([Zw, C, K * N], 'f32');
  // A negative stride along k: u32 arithmetic in the copy kernel wraps, so srcOff − k·C is exact.
  copyInto('flip', wp, wf, { shape: [Zw, C, K, N], ss: [N * K * C, 1, -C, K * C], ds: [C * K * N, K * N, N, 1], srcOff: (K - 1) * C });
  const gp = pad(g, [0, K - 1, 0], [0, L - M, 0]); // [Z, L + K − 1, N]
  const dx = matmulInPlace(gp, wf, { batch: Z, M: L, N: C, K: K * N, transB: true, lda: N, aBatch: (L + K - 1) * N, ldb: K * N, bBatch: Zw === 1 ? 0 : C * K * N });
  gp.dispose();
  wf.dispose();
  return dx;
}

/**
 * dx of the frame product: each frame's gradient dY·W, overlap-added back onto its samples. The
 * frame gradients [Z, M, K·C] are as large as the unfolded matrix the op avoids, so when they
 * would not fit one storage binding they are formed and folded in chunks of one sequence's
 * frames, each added to dx.
 */
function foldGrad(g: Tensor, wp: Tensor, [Z, L, C]: [number, number, number], hop: number, K: number, M: number): Tensor {
  const row = K * C;
  const fold = (d: Tensor, dx: Tensor, Zs: number, z0: number, r0: number, n: number, acc: boolean): void => {
    const tau0 = r0 * hop;
    const span = acc ? Math.min(L, (r0 + n - 1) * hop + K) - tau0 : L;
    launch1d(kernel('frames'), Zs * span * C, [d.buffer, dx.buffer], [L, C, K, hop, Zs, z0, r0, n, acc ? tau0 : 0, span], { ACC: acc ? 1 : 0 }, 'fold');
  };
  const limit = deviceInfo().limits.maxStorageBufferBindingSize;
  if (Z * M * row * 4 <= limit) {
    const d = matmul(g, wp); // [Z, M, K·C]
    const dx = new Tensor([Z, L, C], 'f32');
    fold(d, dx, Z, 0, 0, M, false);
    d.dispose();
    return dx;
  }
  const dx = full([Z, L, C], 0);
  const per = Math.max(1, Math.floor(limit / (row * 4)));
  for (let z = 0; z < Z; z++) {
    const gz = narrow(g, 0, z, 1);
    const wz = wp.shape[0] === 1 ? wp : narrow(wp, 0, z, 1);
    for (let r0 = 0; r0 < M; r0 += per) {
      const n = Math.min(per, M - r0);
      const gc = n === M ? gz : narrow(gz, 1, r0, n);
      const d = matmul(gc, wz); // [1, n, K·C]
      fold(d, dx, 1, z, r0, n, true);
      d.dispose();
      if (gc !== gz) gc.dispose();
    }
    gz.dispose();
    if (wz !== wp) wz.dispose();
  }
  return dx;
}

/** 1-D convolution of channels-last x [B, T, Cin] by w [Cout, Cin / groups, K] → [B, Tout, Cout]. */
export function conv1dFrames(x: Tensor, w: Tensor, b: Tensor | null, opts: FramesConvOptions = {}): Tensor {
  const { stride: hop = 1, padding = 0, groups: G = 1 } = opts;
  expectDType('conv1dFrames', 'f32', x, w);
  if (x.ndim !== 3 || w.ndim !== 3) throw new Error(`conv1dFrames: expected x [B, T, Cin] and w [Cout, Cin/groups, K], got ${fmt(x.shape)} and ${fmt(w.shape)}`);
  const [B, T, Cin] = x.shape as [number, number, number];
  const [Cout, Cg, K] = w.shape as [number, number, number];
  if (Cg * G !== Cin || Cout % G) throw new Error(`conv1dFrames: weight ${fmt(w.shape)} does not fit channels-last input ${fmt(x.shape)} with groups=${G} (need Cin/groups = ${Cin / G} input channels)`);
  if (b && (b.ndim !== 1 || b.shape[0] !== Cout)) throw new Error(`conv1dFrames: bias must be [${Cout}], got ${fmt(b.shape)}`);
  if (!Number.isInteger(hop) || hop < 1) throw new Error(`conv1dFrames: stride must be a positive integer, got ${hop}`);
  const Tout = Math.floor((T + 2 * padding - K) / hop) + 1;
  if (Tout < 1) throw new Error(`conv1dFrames: input length ${T} is shorter than the kernel ${K} (padding ${padding})`);
  const needsGrad = isGradEnabled() && [x, w, b].some((t) => t?.requiresGrad);
  const gelu_ = opts.activation === 'gelu';
  const Cog = Cout / G;
  // [G, Cout/G, K·Cg]: row j·Cg + c of output channel o is w[o, c, j].
  const wp = permute(w.reshape([G, Cog, Cg, K]), [0, 1, 3, 2]).reshape([G, Cog, K * Cg]);
  let y: Tensor;
  if (G === 1 && padding === 0) {
    // Each item is one sequence of frames, all sharing the weight.
    y = framesProduct(x, wp, hop, K, Tout, { bias: b, gelu: gelu_ && !needsGrad });
    if (gelu_ && needsGrad) y = gelu(y);
  } else {
    // Each group's channels, over the whole padded batch, become one sequence [G, B·L, Cg]
    // (L = the padded length rounded up to whole hops, so every item starts on a frame); the
    // frames that straddle two items are computed and dropped. One copy in (two with padding),
    // three of the (smaller) output out.
    const L = Math.ceil((T + 2 * padding) / hop) * hop;
    const F = L / hop;
    const xp = pad(x, [0, padding, 0], [0, L - T - padding, 0]);
    const xg = permute(xp.reshape([B, L, G, Cg]), [2, 0, 1, 3]).reshape([G, B * L, Cg]);
    const M = (B - 1) * F + Tout;
    const yg = framesProduct(xg, wp, hop, K, M);
    const rows = M < B * F ? pad(yg, [0, 0, 0], [0, B * F - M, 0]) : yg;
    y = permute(narrow(rows.reshape([G, B, F, Cog]), 2, 0, Tout), [1, 2, 0, 3]).reshape([B, Tout, Cout]);
    if (b) y = add(y, b);
    if (gelu_) y = gelu(y);
  }
  if (!needsGrad) wp.dispose(); // read by the queued product only
  return y;
}
