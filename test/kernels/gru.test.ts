// BiGRU: PyTorch nn.GRU fixtures (plain and packed with ragged lengths), a plain-TS reference of
// PyTorch's GRU equations, and finite differences for every parameter and the input.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { gruImpl, type GruImpl } from '../../src/kernels/gru.js';
import { forceVariant } from '../../src/kernels/registry.js';
import { fromArray, Rng, Tensor } from '../../src/tensor/tensor.js';
import { BiGRU } from '../../src/model/gru.js';
import { Case } from '../fixture.js';
import { expectClose, randArray, fdGrads } from '../helpers.js';
import { backward } from '../../src/kernels/autograd.js';

const NAMES = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse'] as const;

/** PyTorch's GRU equations in float64, both directions, packed lengths. */
function gruRef(x: Float64Array, w: Float64Array[], B: number, T: number, I: number, H: number, lengths: number[]): Float64Array {
  const out = new Float64Array(B * T * 2 * H);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  for (let dir = 0; dir < 2; dir++) {
    const [wih, whh, bih, bhh] = w.slice(dir * 4, dir * 4 + 4) as [Float64Array, Float64Array, Float64Array, Float64Array];
    for (let b = 0; b < B; b++) {
      let h = new Float64Array(H);
      const L = lengths[b]!;
      for (let s = 0; s < L; s++) {
        const t = dir === 0 ? s : L - 1 - s;
        const gi = new Float64Array(3 * H);
        const gh = new Float64Array(3 * H);
        for (let r = 0; r < 3 * H; r++) {
          let a = bih[r]!;
          for (let k = 0; k < I; k++) a += wih[r * I + k]! * x[(b * T + t) * I + k]!;
          gi[r] = a;
          let c = bhh[r]!;
          for (let k = 0; k < H; k++) c += whh[r * H + k]! * h[k]!;
          gh[r] = c;
        }
        const nh = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const rr = sig(gi[j]! + gh[j]!);
          const z = sig(gi[H + j]! + gh[H + j]!);
          const n = Math.tanh(gi[2 * H + j]! + rr * gh[2 * H + j]!);
          nh[j] = (1 - z) * n + z * h[j]!;
          out[(b * T + t) * 2 * H + dir * H + j] = nh[j]!;
        }
        h = nh;
      }
    }
  }
  return out;
}

async function fixtureCase(name: string, lengths?: number[]): Promise<void> {
  const c = new Case(`crab/${name}`);
  const [B, T, I] = c.shape('in.x') as [number, number, number];
  const H = c.shape('weight_hh_l0')[1]!;
  const gru = new BiGRU(I, H, new Rng(0));
  gru.loadFrom({ has: (n) => c.has(n), shape: (n) => c.shape(n), get: (n) => c.f(n), names: () => c.st.names() });
  const x = fromArray(c.f('in.x'), [B, T, I]);
  x.requiresGrad = true;
  const { output, hN } = gru.forward(x, lengths);
  expectClose(await output.toArray(), c.f('out.output'), c.atol, 1e-4, `${name} output`);
  expectClose(await hN.toArray(), c.f('out.h_n'), c.atol, 1e-4, `${name} h_n`);
  backward(output, fromArray(c.f('in.dy'), output.shape));
  expectClose(await x.grad!.toArray(), c.f('grad.x'), c.atol, 1e-4, `${name} grad.x`);
  const params = gru.namedParameters();
  for (const n of NAMES) expectClose(await params.get(n)!.grad!.toArray(), c.f(`grad.${n}`), c.atol, 1e-4, `${name} grad.${n}`);
  if (lengths) {
    const gx = await x.grad!.toArray();
    lengths.forEach((L, b) => expect(gx.slice((b * T + L) * I, (b + 1) * T * I).every((v) => v === 0)).toBe(true));
  }
}

// Both recurrence kernels: gru.wgsl (GPUs) and gru.subgroup.wgsl (CPU adapters). The nn.GRU
// fixtures have H = 5, which the subgroup kernel does not take (H % 4 ≠ 0), so there it falls
// back to gru.wgsl; the subgroup kernel is held to the float64 reference, finite differences
// and the composition below.
for (const impl of ['plain', 'subgroup'] as GruImpl[]) describe(`gru (${impl} recurrence)`, () => {
  beforeAll(() => forceVariant('gru', impl));
  afterAll(() => forceVariant('gru', null));
  it(`gru ${impl}: matches nn.GRU (bidirectional), forward and every gradient`, async () => {
    await fixtureCase('gru');
  });
  it(`gru ${impl}: matches packed nn.GRU with ragged, unsorted lengths; padded steps get no gradient`, async () => {
    await fixtureCase('gru_packed', [3, 6, 1]);
  });
  it(`gru ${impl}: vs a plain-TS reference and finite differences, both directions, ragged lengths`, async () => {
    const [B, T, I, H] = [2, 5, 3, 4];
    expect(gruImpl(H)).toBe(impl);
    const lengths = [5, 2];
    const gru = new BiGRU(I, H, new Rng(7));
    const params = NAMES.map((n) => gru.namedParameters().get(n)!);
    const pdata = await Promise.all(params.map(async (p) => Float32Array.from(await p.toArray())));
    const xData = randArray(B * T * I, 9);
    const x = fromArray(xData, [B, T, I]);
    x.requiresGrad = true;
    const { output } = gru.forward(x, lengths);
    const ref = (xs: Float64Array[]): Float64Array => gruRef(xs[0]!, xs.slice(1), B, T, I, H, lengths);
    expectClose(await output.toArray(), ref([Float64Array.from(xData), ...pdata.map((d) => Float64Array.from(d))]), 1e-6, 1e-5, 'output');
    const dy = randArray(output.size, 10);
    backward(output, fromArray(dy, output.shape));
    const fd = fdGrads(ref, [xData, ...pdata], dy);
    expectClose(await x.grad!.toArray(), fd[0]!, 1e-5, 1e-3, 'grad x');
    for (let i = 0; i < params.length; i++) expectClose(await (params[i] as Tensor).grad!.toArray(), fd[i + 1]!, 1e-5, 1e-3, `grad ${NAMES[i]}`);
  });
  it(`gru ${impl}: equals the step-by-step composition of basic ops, forward and gradients (11 sequences: two groups of 8)`, async () => {
    const { biGruComposed } = await import('../../src/model/gru.js');
    const [B, T, I, H] = [11, 7, 5, 12];
    const gru = new BiGRU(I, H, new Rng(3));
    const xd = randArray(B * T * I, 4);
    const x1 = fromArray(xd, [B, T, I]);
    const x2 = fromArray(xd, [B, T, I]);
    x1.requiresGrad = x2.requiresGrad = true;
    const y1 = gru.forward(x1).output;
    const y2 = biGruComposed(gru, x2);
    expectClose(await y1.toArray(), await y2.toArray(), 1e-6, 1e-5, 'output');
    const dy = fromArray(randArray(y1.size, 5), y1.shape);
    backward(y1, dy);
    const g1 = await x1.grad!.toArray();
    const w1 = await gru.weight_hh_l0_reverse.grad!.toArray();
    gru.weight_hh_l0_reverse.grad = null;
    backward(y2, dy);
    expectClose(g1, await x2.grad!.toArray(), 1e-6, 1e-4, 'grad x');
    expectClose(w1, await gru.weight_hh_l0_reverse.grad!.toArray(), 1e-6, 1e-4, 'grad weight_hh_l0_reverse');
    // Ragged lengths across both groups of 8, against the float64 reference.
    const lengths = [7, 3, 5, 1, 7, 6, 2, 4, 7, 5, 3];
    const pdata = await Promise.all(NAMES.map(async (n) => Float64Array.from(await gru.namedParameters().get(n)!.toArray())));
    const ragged = gru.forward(fromArray(xd, [B, T, I]), lengths).output;
    expectClose(await ragged.toArray(), gruRef(Float64Array.from(xd), pdata, B, T, I, H, lengths), 1e-6, 1e-5, 'ragged output');
  });
});
