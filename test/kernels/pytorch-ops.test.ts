// The PyTorch golden cases of test/fixtures/ops (forward and gradients), at the fixture
// README's tolerance: rtol 1e-4, atol max(1e-6, 10 × f32-vs-f64).
import { describe, it, expect } from 'vitest';
import * as ops from '../../src/kernels/index.js';
import { fromArray, Tensor } from '../../src/tensor/tensor.js';
import { Case } from '../fixture.js';
import { expectClose } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const RTOL = 1e-4;

/** Loads `in.<n>` leaves, runs `fn`, backprops `in.dy`, and compares out.y and grad.<n>. */
async function runCase(name: string, inputs: string[], fn: (t: Record<string, Tensor>, c: Case) => Tensor, opts: { out?: string } = {}): Promise<void> {
  const c = new Case(name);
  const t: Record<string, Tensor> = {};
  for (const n of inputs) {
    t[n] = fromArray(c.f(`in.${n}`), c.shape(`in.${n}`));
    t[n]!.requiresGrad = true;
  }
  const y = fn(t, c);
  const outName = opts.out ?? 'out.y';
  expect([...y.shape]).toEqual(c.shape(outName));
  expectClose(await y.toArray(), c.f(outName), c.atol, RTOL, `${name} ${outName}`);
  backward(y, fromArray(c.f('in.dy'), y.shape));
  for (const n of inputs) {
    if (!c.has(`grad.${n}`)) continue;
    expectClose(await t[n]!.grad!.toArray(), c.f(`grad.${n}`), c.atol, RTOL, `${name} grad.${n}`);
  }
}

describe('fixtures ops', () => {
  it('matmul cases', async () => {
    await runCase('ops/matmul_2d', ['a', 'b'], (t) => ops.matmul(t.a!, t.b!));
    await runCase('ops/matmul_2d_bT', ['a', 'b'], (t) => ops.matmul(t.a!, t.b!, { transB: true }));
    await runCase('ops/matmul_2d_aT', ['a', 'b'], (t) => ops.matmul(t.a!, t.b!, { transA: true }));
    await runCase('ops/matmul_3d', ['a', 'b'], (t) => ops.matmul(t.a!, t.b!));
    await runCase('ops/matmul_3d_bT', ['a', 'b'], (t) => ops.matmul(t.a!, t.b!, { transB: true }));
    await runCase('ops/matmul_4d_qkT', ['q', 'k'], (t) => ops.matmul(t.q!, t.k!, { transB: true }));
    await runCase('ops/matmul_4d', ['p', 'v'], (t) => ops.matmul(t.p!, t.v!));
    await runCase('ops/matmul_3d_2d', ['x', 'w'], (t) => ops.matmul(t.x!, t.w!));
    await runCase('ops/linear', ['x', 'w', 'b'], (t) => ops.linear(t.x!, t.w!, t.b!));
  });
  it('broadcasting and reductions', async () => {
    await runCase('ops/add_broadcast', ['a', 'b'], (t) => ops.add(t.a!, t.b!));
    await runCase('ops/mul_broadcast', ['a', 'b'], (t) => ops.mul(t.a!, t.b!));
    await runCase('ops/sum_dim1', ['x'], (t) => ops.sum(t.x!, 1));
    await runCase('ops/sum_last_keepdim', ['x'], (t) => ops.sum(t.x!, -1, true));
    await runCase('ops/mean_dim0', ['x'], (t) => ops.mean(t.x!, 0));
    await runCase('ops/mean_last', ['x'], (t) => ops.mean(t.x!, -1));
  });
  it('activations', async () => {
    for (const op of ['gelu', 'relu', 'tanh', 'sigmoid', 'exp'] as const) await runCase(`ops/${op}`, ['x'], (t) => ops[op](t.x!));
  });
  it('softmax with -inf masks and log_softmax', async () => {
    await runCase('ops/softmax_masked', ['x'], (t) => ops.softmax(t.x!));
    await runCase('ops/log_softmax', ['x'], (t) => ops.logSoftmax(t.x!));
  });
  it('layer_norm and group_norm', async () => {
    await runCase('ops/layer_norm', ['x', 'w', 'b'], (t) => ops.layerNorm(t.x!, t.w!, t.b!, 1e-5));
    await runCase('ops/group_norm', ['x', 'w', 'b'], (t) => ops.groupNorm(t.x!, t.x!.shape[1]!, t.w!, t.b!, 1e-5));
  });
  it('conv1d cases, including the WavLM positional conv', async () => {
    await runCase('ops/conv1d_k10_s5', ['x', 'w'], (t) => ops.conv1d(t.x!, t.w!, null, { stride: 5 }));
    await runCase('ops/conv1d_k3_s2', ['x', 'w', 'b'], (t) => ops.conv1d(t.x!, t.w!, t.b!, { stride: 2 }));
    await runCase('ops/conv1d_k2_s2', ['x', 'w'], (t) => ops.conv1d(t.x!, t.w!, null, { stride: 2 }));
    await runCase('ops/conv1d_posconv', ['x', 'w', 'b'], (t) => {
      const y = ops.conv1d(t.x!, t.w!, t.b!, { padding: 64, groups: 16 });
      return ops.narrow(y, 2, 0, y.shape[2]! - 1);
    });
  });
  it('embedding with padding_idx', async () => {
    await runCase('ops/embedding_padding_idx', ['w'], (t, c) => ops.embedding(fromArray(c.i('in.ids'), c.shape('in.ids'), 'i32'), t.w!, 1));
  });
  it('adamw: three steps match torch.optim.AdamW', async () => {
    const c = new Case('ops/adamw');
    const names = c.st.names().filter((n) => /^in\.p\d+$/.test(n)).map((n) => n.slice(3));
    expect(names.length).toBeGreaterThan(0);
    const { AdamW } = await import('../../src/train/optimizer.js');
    const params = names.map((n) => {
      const p = fromArray(c.f(`in.${n}`), c.shape(`in.${n}`));
      p.requiresGrad = true;
      return p;
    });
    const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01 });
    for (let k = 1; k <= 3; k++) {
      params.forEach((p, i) => (p.grad = fromArray(c.f(`in.grad.step${k}.${names[i]}`), p.shape)));
      opt.step();
      for (let i = 0; i < params.length; i++) expectClose(await params[i]!.toArray(), c.f(`out.step${k}.${names[i]}`), c.atol, RTOL, `adamw step ${k} ${names[i]}`);
    }
    for (let i = 0; i < params.length; i++) {
      const { m, v } = opt.moments(params[i]!);
      expectClose(await m.toArray(), c.f(`out.exp_avg.${names[i]}`), c.atol, RTOL, 'exp_avg');
      expectClose(await v.toArray(), c.f(`out.exp_avg_sq.${names[i]}`), c.atol, RTOL, 'exp_avg_sq');
    }
  });
});
