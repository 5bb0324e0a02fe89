// Fused attention against the PyTorch fixture, the composed reference (bias per batch×head or
// broadcast, key padding masks, T ≠ S, fully masked rows) and finite differences.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { attention, attentionComposed, forceAttentionImpl } from '../../src/kernels/attention.js';
import { Case } from '../fixture.js';
import { expectClose, randArray, checkOp } from '../helpers.js';
import { softmaxRows } from '../reference.js';

function leaf(data: Float32Array, shape: number[]): Tensor {
  const t = fromArray(data, shape);
  t.requiresGrad = true;
  return t;
}

/** float64 attention: q [B,H,T,D], k/v [B,H,S,D], bias broadcast [bB,bH,T,S], mask [B,S]. */
function attnRef(q: Float64Array, k: Float64Array, v: Float64Array, [B, H, T, S, D]: number[], bias: Float64Array | null, bShape: number[], mask: number[] | null): Float64Array {
  const out = new Float64Array(B! * H! * T! * D!);
  for (let b = 0; b < B!; b++) for (let h = 0; h < H!; h++) {
    const sc = new Float64Array(T! * S!);
    for (let t = 0; t < T!; t++) for (let j = 0; j < S!; j++) {
      let s = 0;
      for (let d = 0; d < D!; d++) s += q[((b * H! + h) * T! + t) * D! + d]! * k[((b * H! + h) * S! + j) * D! + d]!;
      s /= Math.sqrt(D!);
      if (bias) s += bias[(bShape[0] === 1 ? 0 : b) * bShape[1]! * T! * S! + (bShape[1] === 1 ? 0 : h) * T! * S! + t * S! + j]!;
      if (mask && mask[b * S! + j]) s = -Infinity;
      sc[t * S! + j] = s;
    }
    const p = softmaxRows(sc, S!);
    for (let t = 0; t < T!; t++) for (let d = 0; d < D!; d++) {
      let acc = 0;
      for (let j = 0; j < S!; j++) acc += p[t * S! + j]! * v[((b * H! + h) * S! + j) * D! + d]!;
      out[((b * H! + h) * T! + t) * D! + d] = acc;
    }
  }
  return out;
}

// These tests are about the fused kernel: force it (CPU adapters would otherwise get the composed path).
beforeAll(() => forceAttentionImpl('fused'));
afterAll(() => forceAttentionImpl(null));

describe('attention', () => {
  it('attention matches the PyTorch fixture with a per-batch×head bias and a key padding mask', async () => {
    const c = new Case('ops/attention_bias_kpm');
    const [q, k, v, bias] = ['q', 'k', 'v', 'bias'].map((n) => leaf(c.f(`in.${n}`), c.shape(`in.${n}`))) as [Tensor, Tensor, Tensor, Tensor];
    const mask = fromArray(Float32Array.from(c.i('in.key_padding_mask')), c.shape('in.key_padding_mask'));
    const y = attention(q, k, v, { bias, keyPaddingMask: mask });
    expectClose(await y.toArray(), c.f('out.y'), c.atol, 1e-4, 'out.y');
    y.backward(fromArray(c.f('in.dy'), y.shape));
    for (const [n, t] of [['q', q], ['k', k], ['v', v], ['bias', bias]] as const) {
      expectClose(await t.grad!.toArray(), c.f(`grad.${n}`), c.atol, 1e-4, `grad.${n}`);
    }
  });
  it('attention fused vs float64 reference and finite differences: cross-attention T ≠ S, broadcast bias, masks', async () => {
    const cases: Array<{ dims: number[]; bShape: number[] | null; mask: number[] | null }> = [
      { dims: [1, 1, 1, 1, 4], bShape: null, mask: null },
      { dims: [2, 2, 7, 5, 8], bShape: [1, 2, 7, 5], mask: [0, 0, 0, 1, 1, 0, 0, 0, 0, 0] },
      { dims: [1, 3, 3, 9, 4], bShape: [1, 1, 3, 9], mask: null },
    ];
    for (const { dims, bShape, mask } of cases) {
      const [B, H, T, S, D] = dims as [number, number, number, number, number];
      const inputs = [
        { data: randArray(B * H * T * D, 1), shape: [B, H, T, D] },
        { data: randArray(B * H * S * D, 2), shape: [B, H, S, D] },
        { data: randArray(B * H * S * D, 3), shape: [B, H, S, D] },
      ];
      if (bShape) inputs.push({ data: randArray(bShape.reduce((a, b) => a * b, 1), 4), shape: bShape });
      const m = mask ? fromArray(mask, [B, S]) : null;
      await checkOp(`attention ${dims}`, (t) => attention(t[0]!, t[1]!, t[2]!, { bias: t[3] ?? null, keyPaddingMask: m }),
        (t) => attnRef(t[0]!, t[1]!, t[2]!, dims, t[3] ?? null, bShape ?? [], mask), inputs, { atol: 1e-5 });
    }
  });
  it('attention: a fully masked row gives zeros and finite gradients; fused equals composed at T=S=129', async () => {
    const [B, H, T, S, D] = [2, 1, 3, 4, 8];
    const q = leaf(randArray(B * H * T * D, 5), [B, H, T, D]);
    const k = leaf(randArray(B * H * S * D, 6), [B, H, S, D]);
    const v = leaf(randArray(B * H * S * D, 7), [B, H, S, D]);
    const mask = fromArray([0, 0, 1, 1, 1, 1, 1, 1], [B, S]); // batch 1: every key padded
    const y = attention(q, k, v, { keyPaddingMask: mask });
    const out = await y.toArray();
    expect(out.slice(T * D).every((x) => x === 0)).toBe(true);
    y.backward();
    for (const t of [q, k, v]) expect((await t.grad!.toArray()).every(Number.isFinite)).toBe(true);
    const [B2, H2, T2, D2] = [1, 2, 129, 32];
    const a = [8, 9, 10].map((s) => fromArray(randArray(B2 * H2 * T2 * D2, s), [B2, H2, T2, D2]));
    const bias = fromArray(randArray(H2 * T2 * T2, 11), [1, H2, T2, T2]);
    expectClose(await attention(a[0]!, a[1]!, a[2]!, { bias }).toArray(), await attentionComposed(a[0]!, a[1]!, a[2]!, { bias }).toArray(), 1e-5, 1e-4, 'fused vs composed');
  });
});
