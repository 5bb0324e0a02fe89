// Fused contrastive losses (multi-positive, SupCon) against PyTorch fixtures
// (ops/ and the Crab authors' code in crab/), their composed references and finite differences.
import { describe, it, expect } from 'vitest';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { contrastiveLoss, contrastiveComposed, type ContrastiveMode } from '../../src/kernels/contrastive.js';
import { Case } from '../fixture.js';
import { expectClose, randArray, fdGrads, gpuGrads } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const RTOL = 1e-4;

function leaf(data: Float32Array, shape: number[]): Tensor {
  const t = fromArray(data, shape);
  t.requiresGrad = true;
  return t;
}

/** float64 reference of the contrastive losses (from the formula). */
function conRef(f: Float64Array, y: number[], D: number, tau: number, mode: ContrastiveMode): number {
  const N = y.length;
  const z = Array.from({ length: N }, (_, i) => {
    const r = Array.from(f.subarray(i * D, (i + 1) * D));
    const n = Math.max(Math.sqrt(r.reduce((s, v) => s + v * v, 0)), 1e-12);
    return r.map((v) => v / n);
  });
  let total = 0;
  let counted = 0;
  for (let i = 0; i < N; i++) {
    const s = z.map((zj) => zj.reduce((acc, v, d) => acc + v * z[i]![d]!, 0) / tau);
    const others = s.filter((_, j) => j !== i);
    const m = Math.max(...others);
    const lse = m + Math.log(others.reduce((a, v) => a + Math.exp(v - m), 0));
    const pos = s.map((v, j) => [v, j] as const).filter(([, j]) => j !== i && y[j] === y[i]);
    if (!pos.length) continue;
    counted++;
    total += -pos.reduce((a, [v]) => a + (v - lse), 0) / pos.length;
  }
  return total / (mode === 'multipos' ? N : Math.max(counted, 1));
}

describe('contrastive', () => {
  it('contrastive multipos matches the Crab authors\' MultiPosConLoss (τ 0.1, 0.07, all singletons)', async () => {
    for (const name of ['multipos_loss_tau0.1', 'multipos_loss_tau0.07', 'multipos_loss_all_singletons']) {
      const c = new Case(`crab/${name}`);
      const tau = (c.meta.config as { temperature?: number }).temperature ?? (name.includes('0.07') ? 0.07 : 0.1);
      const f = leaf(c.f('in.embs'), c.shape('in.embs'));
      const loss = contrastiveLoss(f, fromArray(c.i('in.labels'), c.shape('in.labels'), 'i32'), { temperature: tau });
      expectClose(await loss.toArray(), c.f('out.loss'), c.atol, RTOL, `${name} loss`);
      backward(loss, c.has('in.dy') ? fromArray(c.f('in.dy'), []) : undefined);
      expectClose(await f.grad!.toArray(), c.f('grad.embs'), c.atol, RTOL, `${name} grad`);
      if (name.includes('singletons')) expect(await loss.item()).toBe(0);
    }
  });
  it('contrastive supcon matches the PyTorch SupCon fixtures (singleton anchors excluded or zero)', async () => {
    for (const name of ['supcon_t0.07', 'supcon_t0.1', 'supcon_singleton_t0.07', 'supcon_singleton_t0.1', 'supcon_singleton_zero_t0.07', 'supcon_singleton_zero_t0.1']) {
      const c = new Case(`ops/${name}`);
      const params = c.meta.params as { temperature: number; singleton: string };
      const mode: ContrastiveMode = params.singleton === 'zero' ? 'multipos' : 'supcon';
      const f = leaf(c.f('in.features'), c.shape('in.features'));
      const loss = contrastiveLoss(f, fromArray(c.i('in.labels'), c.shape('in.labels'), 'i32'), { temperature: params.temperature, mode });
      expectClose(await loss.toArray(), c.f('out.loss'), c.atol, RTOL, `${name} loss`);
      backward(loss, fromArray(c.f('in.dy'), []));
      expectClose(await f.grad!.toArray(), c.f('grad.features'), c.atol, RTOL, `${name} grad`);
    }
  });
  it('contrastive fused vs composed reference, float64 formula and finite differences, singleton classes', async () => {
    for (const mode of ['multipos', 'supcon'] as const) {
      for (const [N, D] of [[7, 5], [33, 16]] as const) {
        const y = Array.from({ length: N }, (_, i) => (i < 3 ? i + 100 : i % 4)); // three singletons
        const data = randArray(N * D, N + D, -2, 2);
        const { y: out, grads } = await gpuGrads(([t]) => contrastiveLoss(t!, fromArray(y, [N], 'i32'), { mode }), [{ data, shape: [N, D] }], new Float32Array([0.7]));
        const tau = mode === 'multipos' ? 0.1 : 0.07;
        expectClose(out, [conRef(Float64Array.from(data), y, D, tau, mode)], 1e-5, 1e-5, `${mode} N=${N} loss`);
        const fd = fdGrads(([x]) => [conRef(x!, y, D, tau, mode)], [data], [0.7]);
        expectClose(grads[0]!, fd[0]!, 2e-5, 1e-3, `${mode} N=${N} grad`);
        const comp = contrastiveComposed(fromArray(data, [N, D]), fromArray(y, [N], 'i32'), { mode });
        expectClose(out, await comp.toArray(), 1e-5, 1e-5, `${mode} fused vs composed`);
      }
    }
  });
});
