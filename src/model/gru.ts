/**
 * `nn.GRU(input, hidden, batch_first=True, bidirectional=True)` on the fused recurrence kernel,
 * with PyTorch's parameter names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`
 * and `_reverse`) and optional per-sequence lengths (packed-sequence semantics).
 * @module
 */
import { Tensor, Rng, fromArray } from '../tensor/tensor.js';
import { concat, linear, gruRecurrence } from '../kernels/index.js';
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
