/**
 * `nn.GRU(input, hidden, batch_first=True, bidirectional=True)` on the fused recurrence kernel,
 * with PyTorch's parameter names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`
 * and `_reverse`) and optional per-sequence lengths (packed-sequence semantics).
 * @module
 */
import { Tensor, Rng, fromArray } from '../tensor/tensor.js';
import { zeros, full } from '../kernels/fill.js';
import { concat, linear, gruRecurrence, narrow, sigmoid, tanh, add, mul, sub } from '../kernels/index.js';
import { Module, param, uniformInit } from './module.js';

/** A one-layer bidirectional GRU; output [B, T, 2H] = [forward | backward]. */
export class BiGRU extends Module {
  weight_ih_l0: Tensor;
  weight_hh_l0: Tensor;
  bias_ih_l0: Tensor;
  bias_hh_l0: Tensor;
  weight_ih_l0_reverse: Tensor;
  weight_hh_l0_reverse: Tensor;
  bias_ih_l0_reverse: Tensor;
  bias_hh_l0_reverse: Tensor;

  constructor(readonly inputSize: number, readonly hiddenSize: number, rng: Rng) {
    super();
    const H = hiddenSize;
    const k = 1 / Math.sqrt(H); // PyTorch: U(−1/√H, 1/√H) for every GRU parameter
    const u = (n: number, shape: number[]): Tensor => param(uniformInit(n, k, rng), shape);
    this.weight_ih_l0 = u(3 * H * inputSize, [3 * H, inputSize]);
    this.weight_hh_l0 = u(3 * H * H, [3 * H, H]);
    this.bias_ih_l0 = u(3 * H, [3 * H]);
    this.bias_hh_l0 = u(3 * H, [3 * H]);
    this.weight_ih_l0_reverse = u(3 * H * inputSize, [3 * H, inputSize]);
    this.weight_hh_l0_reverse = u(3 * H * H, [3 * H, H]);
    this.bias_ih_l0_reverse = u(3 * H, [3 * H]);
    this.bias_hh_l0_reverse = u(3 * H, [3 * H]);
  }

  /** x [B, T, input] and lengths (default: all T) → output [B, T, 2H] and h_n [2, B, H]. */
  forward(x: Tensor, lengths?: number[] | Tensor): { output: Tensor; hN: Tensor } {
    const [B, T] = x.shape as [number, number];
    const wih = concat([this.weight_ih_l0, this.weight_ih_l0_reverse], 0);
    const bih = concat([this.bias_ih_l0, this.bias_ih_l0_reverse], 0);
    const whh = concat([this.weight_hh_l0, this.weight_hh_l0_reverse], 0);
    const bhh = concat([this.bias_hh_l0, this.bias_hh_l0_reverse], 0);
    const gi = linear(x, wih, bih);
    const lens = lengths instanceof Tensor ? lengths : fromArray(lengths ?? new Array(B).fill(T), [B], 'i32');
    const { out, hN } = gruRecurrence(gi, whh, bhh, lens);
    return { output: out, hN };
  }
}

/**
 * The same BiGRU (all sequences full length) composed step by step from basic ops — one
 * matmul and a handful of elementwise launches per step and direction. The reference the fused
 * recurrence is tested against and benchmarked with.
 */
export function biGruComposed(g: BiGRU, x: Tensor): Tensor {
  const [B, T] = x.shape as [number, number];
  const H = g.hiddenSize;
  const outs: Tensor[][] = [[], []];
  const dirs = [
    [g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0],
    [g.weight_ih_l0_reverse, g.weight_hh_l0_reverse, g.bias_ih_l0_reverse, g.bias_hh_l0_reverse],
  ] as const;
  dirs.forEach(([wih, whh, bih, bhh], dir) => {
    const gi = linear(x, wih, bih); // [B, T, 3H]
    let h = zeros([B, H]);
    for (let s = 0; s < T; s++) {
      const t = dir === 0 ? s : T - 1 - s;
      const git = narrow(gi, 1, t, 1).reshape([B, 3 * H]);
      const gh = linear(h, whh, bhh);
      const r = sigmoid(add(narrow(git, 1, 0, H), narrow(gh, 1, 0, H)));
      const z = sigmoid(add(narrow(git, 1, H, H), narrow(gh, 1, H, H)));
      const n = tanh(add(narrow(git, 1, 2 * H, H), mul(r, narrow(gh, 1, 2 * H, H))));
      h = add(mul(sub(full([1], 1), z), n), mul(z, h));
      outs[dir]![t] = h.reshape([B, 1, H]);
    }
  });
  return concat([concat(outs[0]!, 1), concat(outs[1]!, 1)], 2);
}
