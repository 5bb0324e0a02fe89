// Fused weighted cross-entropy against the PyTorch fixtures
// (ops/ and the Crab authors' code in crab/), their composed references and finite differences.
import { describe, it, expect } from 'vitest';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { crossEntropy, crossEntropyComposed, classWeights } from '../../src/kernels/cross_entropy.js';
import { Case } from '../fixture.js';
import { expectClose, randArray, fdGrads, gpuGrads } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const RTOL = 1e-4;

function leaf(data: Float32Array, shape: number[]): Tensor {
  const t = fromArray(data, shape);
  t.requiresGrad = true;
  return t;
}

/** float64 reference of the weighted CE with ignore index and label smoothing. */
function ceRef(z: Float64Array, y: number[], w: number[], C: number, ignore = -100, eps = 0): number {
  let num = 0;
  let den = 0;
  y.forEach((t, i) => {
    if (t === ignore) return;
    const row = Array.from(z.subarray(i * C, (i + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const smooth = row.reduce((s, v, c) => s + w[c]! * (lse - v), 0);
    num += (1 - eps) * w[t]! * (lse - row[t]!) + (eps / C) * smooth;
    den += w[t]!;
  });
  return num / den;
}

describe('cross_entropy', () => {
  it('cross_entropy matches the PyTorch weighted-mean fixture, forward and gradient', async () => {
    const c = new Case('ops/cross_entropy_weighted');
    const z = leaf(c.f('in.logits'), c.shape('in.logits'));
    const loss = crossEntropy(z, fromArray(c.i('in.target'), c.shape('in.target'), 'i32'), { weight: fromArray(c.f('in.weight')) });
    expectClose(await loss.toArray(), c.f('out.loss'), c.atol, RTOL, 'loss');
    backward(loss, fromArray(c.f('in.dy'), []));
    expectClose(await z.grad!.toArray(), c.f('grad.logits'), c.atol, RTOL, 'grad.logits');
  });
  it('cross_entropy with ignore_index and label smoothing vs float64 reference and finite differences', async () => {
    const [N, C] = [9, 5];
    const y = [0, 4, -100, 2, 2, 1, 3, -100, 4];
    const w = [0.5, 2, 1, 0, 1.5]; // includes a zero weight
    const data = randArray(N * C, 3, -3, 3);
    for (const eps of [0, 0.1]) {
      const opts = { weight: fromArray(w), ignoreIndex: -100, labelSmoothing: eps };
      const { y: out, grads } = await gpuGrads(([t]) => crossEntropy(t!, fromArray(y, [N], 'i32'), opts), [{ data, shape: [N, C] }], new Float32Array([1.3]));
      const ref = ceRef(Float64Array.from(data), y, w, C, -100, eps);
      expectClose(out, [ref], 1e-6, 1e-5, `loss eps=${eps}`);
      const fd = fdGrads(([x]) => [ceRef(x!, y, w, C, -100, eps)], [data], [1.3]);
      expectClose(grads[0]!, fd[0]!, 1e-5, 1e-3, `grad eps=${eps}`);
    }
  });
  it('cross_entropy fused equals the composed reference; huge logits stay finite', async () => {
    const [N, C] = [33, 7];
    const data = randArray(N * C, 5, -4, 4);
    data[3] = 1e4; // a huge logit
    const y = Array.from({ length: N }, (_, i) => (i * 3) % C);
    const w = fromArray(Array.from({ length: C }, (_, c) => 0.5 + c / 4));
    const a = leaf(data, [N, C]);
    const b = leaf(data, [N, C]);
    const la = crossEntropy(a, fromArray(y, [N], 'i32'), { weight: w });
    const lb = crossEntropyComposed(b, fromArray(y, [N], 'i32'), w);
    expectClose(await la.toArray(), await lb.toArray(), 1e-4, 1e-5, 'loss');
    backward(la);
    backward(lb);
    const ga = await a.grad!.toArray();
    expect(ga.every(Number.isFinite)).toBe(true);
    expectClose(ga, await b.grad!.toArray(), 1e-6, 1e-4, 'grad');
  });
  it('cross_entropy rejects a target outside the classes, naming the row', () => {
    expect(() => crossEntropy(fromArray(new Float32Array(6), [2, 3]), fromArray([0, 3], [2], 'i32'))).toThrow(/target 3 at row 1/);
  });
  it('classWeights: N/(C·n_c); an empty class is an error unless zeroForMissing (authors\' behaviour)', () => {
    const labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2]; // counts 7, 3, 6, 0
    expect(() => classWeights(labels, 4, { names: ['neu', 'ang', 'sad', 'hap'] })).toThrow(/class hap \(3\) has no sample/);
    const w = classWeights(labels, 4, { zeroForMissing: true });
    const c = new Case('crab/head_forward_backward');
    expectClose(w, c.f('class_weights'), 1e-6, 1e-6, 'class weights vs the authors\' code');
  });
});

