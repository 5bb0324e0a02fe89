// Fused attention against the PyTorch fixture, the composed reference (bias per batch×head or
// broadcast, key padding masks, T ≠ S, fully masked rows) and finite differences.
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { attention, attentionComposed, attentionImpl } from '../../src/kernels/attention.js';
import { forceVariant } from '../../src/kernels/registry.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { Case } from '../fixture.js';
import { expectClose, randArray, checkOp } from '../helpers.js';
import { softmaxRows } from '../reference.js';
import { backward } from '../../src/kernels/autograd.js';

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
beforeAll(() => forceVariant('attention', 'fused'));
afterAll(() => forceVariant('attention', null));

describe('attention', () => {
  it('attention matches the PyTorch fixture with a per-batch×head bias and a key padding mask', async () => {
    const c = new Case('ops/attention_bias_kpm');
    const [q, k, v, bias] = ['q', 'k', 'v', 'bias'].map((n) => leaf(c.f(`in.${n}`), c.shape(`in.${n}`))) as [Tensor, Tensor, Tensor, Tensor];
    const mask = fromArray(Float32Array.from(c.i('in.key_padding_mask')), c.shape('in.key_padding_mask'));
    const y = attention(q, k, v, { bias, keyPaddingMask: mask });
    expectClose(await y.toArray(), c.f('out.y'), c.atol, 1e-4, 'out.y');
    backward(y, fromArray(c.f('in.dy'), y.shape));
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
    backward(y);
    for (const t of [q, k, v]) expect((await t.grad!.toArray()).every(Number.isFinite)).toBe(true);
    const [B2, H2, T2, D2] = [1, 2, 129, 32];
    const a = [8, 9, 10].map((s) => fromArray(randArray(B2 * H2 * T2 * D2, s), [B2, H2, T2, D2]));
    const bias = fromArray(randArray(H2 * T2 * T2, 11), [1, H2, T2, T2]);
    expectClose(await attention(a[0]!, a[1]!, a[2]!, { bias }).toArray(), await attentionComposed(a[0]!, a[1]!, a[2]!, { bias }).toArray(), 1e-5, 1e-4, 'fused vs composed');
  });
});

describe('attention, subgroup kernels (8 rows × 32 columns per workgroup)', () => {
  beforeAll(() => forceVariant('attention', 'subgroup'));
  afterAll(() => forceVariant('attention', 'fused'));
  it('attention subgroup forward vs float64: ragged T and S, Dh 32/64/128, per-batch×head and broadcast bias, masks, a fully masked row', async () => {
    expect(deviceInfo().hasSubgroups, 'this adapter has no subgroups').toBe(true);
    const cases: Array<{ dims: number[]; bShape: number[] | null; mask: boolean }> = [
      { dims: [1, 1, 1, 1, 32], bShape: null, mask: false },
      { dims: [2, 3, 13, 45, 64], bShape: [2, 3, 13, 45], mask: true },
      { dims: [1, 2, 9, 70, 128], bShape: [1, 1, 9, 70], mask: true },
      { dims: [2, 1, 16, 32, 32], bShape: null, mask: true },
    ];
    for (const { dims, bShape, mask } of cases) {
      const [B, H, T, S, D] = dims as [number, number, number, number, number];
      expect(attentionImpl(D)).toBe('subgroup');
      const q = randArray(B * H * T * D, 21);
      const k = randArray(B * H * S * D, 22);
      const v = randArray(B * H * S * D, 23);
      const bias = bShape ? randArray(bShape.reduce((a, b) => a * b, 1), 24) : null;
      // Item 0 pads its last third; item 1 (when there) pads every key: its rows must be 0.
      const m = mask ? Array.from({ length: B * S }, (_, i) => (i < S ? (i >= S - Math.floor(S / 3) ? 1 : 0) : 1)) : null;
      const y = attention(fromArray(q, [B, H, T, D]), fromArray(k, [B, H, S, D]), fromArray(v, [B, H, S, D]), {
        bias: bias ? fromArray(bias, bShape!) : null, keyPaddingMask: m ? fromArray(m, [B, S]) : null,
      });
      const ref = attnRef(Float64Array.from(q), Float64Array.from(k), Float64Array.from(v), dims, bias ? Float64Array.from(bias) : null, bShape ?? [], m);
      const got = await y.toArray();
      // The reference gives NaN for a fully masked row (softmax of −∞ only); the kernels give 0.
      const want = ref.map((x) => (Number.isNaN(x) ? 0 : x));
      expectClose(got, want, 1e-5, 1e-4, `subgroup attention ${dims}`);
    }
  });
  it.each(['materialized', 'streaming'] as const)('attention subgroup backward, %s: gradients equal the composed path (bias with grad, mask, T=23, S=40, Dh=64); a fully masked item gives zeros', async (mode) => {
    forceVariant('attention', mode === 'materialized' ? 'subgroup' : 'subgroup_streaming');
    onTestFinished(() => forceVariant('attention', 'subgroup'));
    const [B, H, T, S, D] = [2, 2, 23, 40, 64];
    const make = (): Tensor[] => [leaf(randArray(B * H * T * D, 31), [B, H, T, D]), leaf(randArray(B * H * S * D, 32), [B, H, S, D]), leaf(randArray(B * H * S * D, 33), [B, H, S, D]), leaf(randArray(H * T * S, 34), [1, H, T, S])];
    const mask = fromArray(Array.from({ length: B * S }, (_, i) => (i % S >= S - 5 * (i < S ? 1 : 2) ? 1 : 0)), [B, S]);
    const dy = fromArray(randArray(B * H * T * D, 35), [B, H, T, D]);
    const a = make();
    const b = make();
    const ya = attention(a[0]!, a[1]!, a[2]!, { bias: a[3], keyPaddingMask: mask });
    const yb = attentionComposed(b[0]!, b[1]!, b[2]!, { bias: b[3], keyPaddingMask: mask });
    expectClose(await ya.toArray(), await yb.toArray(), 1e-5, 1e-4, 'y');
    backward(ya, dy);
    backward(yb, dy);
    for (let i = 0; i < 4; i++) expectClose(await a[i]!.grad!.toArray(), await b[i]!.grad!.toArray(), 1e-5, 1e-4, `grad ${'qkvb'[i]}`);
    // Dh = 32 and 128 (1 and 4 vec4 chunks per lane), a bias without gradient, T = 9, S = 33.
    for (const Dh of [32, 128]) {
      const [T2, S2] = [9, 33];
      const mk = (): Tensor[] => [leaf(randArray(H * T2 * Dh, 41), [1, H, T2, Dh]), leaf(randArray(H * S2 * Dh, 42), [1, H, S2, Dh]), leaf(randArray(H * S2 * Dh, 43), [1, H, S2, Dh])];
      const fixedBias = fromArray(randArray(H * T2 * S2, 44), [1, H, T2, S2]);
      const dy2 = fromArray(randArray(H * T2 * Dh, 45), [1, H, T2, Dh]);
      const [x, y] = [mk(), mk()];
      backward(attention(x[0]!, x[1]!, x[2]!, { bias: fixedBias }), dy2);
      backward(attentionComposed(y[0]!, y[1]!, y[2]!, { bias: fixedBias }), dy2);
      for (let i = 0; i < 3; i++) expectClose(await x[i]!.grad!.toArray(), await y[i]!.grad!.toArray(), 1e-5, 1e-4, `Dh ${Dh} grad ${'qkv'[i]}`);
    }
    // A fully masked item: zero output, zero and finite gradients (the composed path gives NaN there).
    const c = make();
    const all = fromArray(Array.from({ length: B * S }, (_, i) => (i >= S ? 1 : 0)), [B, S]);
    const yc = attention(c[0]!, c[1]!, c[2]!, { bias: c[3], keyPaddingMask: all });
    backward(yc, dy);
    const half = B * H * T * D / 2;
    expect((await yc.toArray()).slice(half).every((x) => x === 0)).toBe(true);
    for (const t of c.slice(0, 3)) {
      const g = await t.grad!.toArray();
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.slice(g.length / 2).every((x) => x === 0)).toBe(true);
    }
  });
});
