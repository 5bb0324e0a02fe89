// Crab's options beyond the authors' head, against PyTorch references written by
// tools/gen_crab_options.py (test/fixtures/crab_options): the learned layer-weighted sum and the
// stacked cross-modal transformer; plus the head-level properties of each option.
import { describe, it, expect } from 'vitest';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { Crab, CrossModalTransformer, mixLayers } from '../../src/model/crab.js';
import { Rng } from '../../src/tensor/tensor.js';
import { Case } from '../fixture.js';
import { expectClose, randArray } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const grad = async (t: Tensor): Promise<Float32Array> => (await t.grad!.toArray()) as Float32Array;
const padMask = (lengths: number[], T: number): Tensor => fromArray(lengths.flatMap((L) => Array.from({ length: T }, (_, t) => (t >= L ? 1 : 0))), [lengths.length, T]);

describe('crab options vs PyTorch', () => {
  it('layer-weighted sum: softmax(w)-mixed hidden states and both gradients', async () => {
    const c = new Case('crab_options/layer_mix');
    const x = fromArray(c.f('x'), c.shape('x'));
    const w = fromArray(c.f('w'), c.shape('w'));
    x.requiresGrad = true;
    w.requiresGrad = true;
    const y = mixLayers(x, w);
    backward(y, fromArray(c.f('dy'), c.shape('dy')));
    expectClose(await y.toArray(), c.f('y'), 1e-6, 1e-5, 'y');
    expectClose(await grad(x), c.f('dx'), 1e-6, 1e-5, 'dx');
    expectClose(await grad(w), c.f('dw'), 1e-6, 1e-5, 'dw');
  });

  it('cross-modal transformer (2 pre-LN layers, 2 heads, key padding masks): outputs and every gradient', async () => {
    const c = new Case('crab_options/cmt');
    const m = new CrossModalTransformer(2, 8, 2, 12, 0, new Rng(1)).eval();
    const names = c.st.names().filter((n) => !n.startsWith('grad.') && !/^(S|X|S_out|X_out|dS|dX)$/.test(n));
    const r = m.loadFrom({ has: (n) => c.has(n), shape: (n) => c.shape(n), get: (n) => c.f(n), names: () => names });
    expect(r.missing).toEqual([]);
    expect(r.unexpected).toEqual([]);
    const S = fromArray(c.f('S'), c.shape('S'));
    const X = fromArray(c.f('X'), c.shape('X'));
    S.requiresGrad = true;
    X.requiresGrad = true;
    const [So, Xo] = m.forward(S, X, padMask([5, 3], 5), padMask([2, 4], 4));
    expectClose(await So.toArray(), c.f('S_out'), 2e-5, 1e-4, 'S_out');
    expectClose(await Xo.toArray(), c.f('X_out'), 2e-5, 1e-4, 'X_out');
    backward(So, fromArray(c.f('dS'), c.shape('dS')));
    backward(Xo, fromArray(c.f('dX'), c.shape('dX')));
    expectClose(await grad(S), c.f('grad.S'), 2e-5, 1e-4, 'grad S');
    expectClose(await grad(X), c.f('grad.X'), 2e-5, 1e-4, 'grad X');
    const params = m.namedParameters();
    expect(params.size).toBe(names.length);
    for (const [n, p] of params) expectClose(await grad(p), c.f(`grad.${n}`), 2e-5, 1e-4, `grad ${n}`);
  });
});

describe('crab options in the head', () => {
  const base = { speechDim: 6, textDim: 5, numClasses: 3, hidden: 8, fusionHidden: 8, contrastiveDim: 4 };

  it('layer weights start uniform: a 3-layer head equals the 1-layer head fed the layer mean', async () => {
    const s = randArray(2 * 4 * 3 * 6, 1);
    const t = randArray(2 * 3 * 2 * 5, 2);
    const mixed = new Crab({ ...base, speechLayers: 3, textLayers: 2 }).eval();
    const plain = new Crab(base).eval();
    const mean = (a: Float32Array, rows: number, L: number, d: number): Float32Array => {
      const o = new Float32Array(rows * d);
      for (let r = 0; r < rows; r++) for (let l = 0; l < L; l++) for (let k = 0; k < d; k++) o[r * d + k]! += a[(r * L + l) * d + k]! / L;
      return o;
    };
    const a = mixed.forward({ speech: fromArray(s, [2, 4, 3, 6]), text: fromArray(t, [2, 3, 2, 5]), speechLengths: [4, 2], textLengths: [1, 3] }, false).logits;
    const b = plain.forward({ speech: fromArray(mean(s, 8, 3, 6), [2, 4, 6]), text: fromArray(mean(t, 6, 2, 5), [2, 3, 5]), speechLengths: [4, 2], textLengths: [1, 3] }, false).logits;
    expectClose(await a.toArray(), await b.toArray(), 1e-6, 1e-5, 'logits');
    expect([...mixed.namedParameters().keys()].slice(0, 2)).toEqual(['speech_layer_weights', 'text_layer_weights']);
    expect(() => mixed.forward({ speech: fromArray(s.subarray(0, 48), [2, 4, 6]), text: fromArray(t, [2, 3, 2, 5]) }, false)).toThrow(/\[B, T, 3, d\]/);
  });

  it('cross-modal transformer head: padding content changes nothing, every parameter gets a gradient', async () => {
    const crab = new Crab({ ...base, crossModalLayers: 2, crossModalHeads: 2 }).eval();
    expect(crab.speech_attention).toBeUndefined();
    const run = (fill: number): { logits: Tensor; total: Tensor } => {
      const s = randArray(2 * 7 * 6, 3);
      const t = randArray(2 * 4 * 5, 4);
      s.fill(fill, 4 * 6, 7 * 6);
      t.fill(fill, 6 * 5, 8 * 5);
      const out = crab.forward({ speech: fromArray(s, [2, 7, 6]), text: fromArray(t, [2, 4, 5]), speechLengths: [4, 7], textLengths: [4, 2] }, true);
      return { logits: out.logits, total: crab.loss(out, fromArray([0, 2], [2], 'i32'), null).total };
    };
    const a = run(0);
    const b = run(77);
    expectClose(await a.logits.toArray(), await b.logits.toArray(), 1e-6, 1e-5, 'logits');
    backward(a.total);
    const names = [...crab.namedParameters().keys()].filter((n) => n.startsWith('cross_modal.'));
    expect(names.length).toBe(2 * 24 + 4); // per layer: 4 LayerNorms, 2 MHAs, 2 FFNs; two final norms
    for (const [n, p] of crab.namedParameters()) {
      if (!n.startsWith('cross_modal.')) continue;
      const g = await grad(p);
      expect(g.some((v) => v !== 0), `${n} has a zero gradient`).toBe(true);
    }
  });
});
