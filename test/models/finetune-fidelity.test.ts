// Hugging Face's training mode, checked against PyTorch: one training step of WavLM (base and
// large test models) and RoBERTa with every dropout site on (feature projection, encoder,
// attention weights, attention output, feed-forward activation and output, LayerDrop, SpecAugment
// time and feature masks), the masks drawn in PyTorch (tools/gen_finetune.py) and handed to the
// engine through the mask hook. Outputs, attention weights and every gradient must match.
// Then, without the hook: each site's keep rate is its configured rate, eval mode is identity,
// and a seed repeats a run exactly.
import { describe, it, expect } from 'vitest';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArray, noGrad, type Tensor } from '../../src/tensor/tensor.js';
import { mul, sum } from '../../src/kernels/index.js';
import { backward } from '../../src/kernels/autograd.js';
import { WavLMModel, readWavLMConfig } from '../../src/model/wavlm.js';
import { RobertaModel, readRobertaConfig } from '../../src/model/roberta.js';
import { withMasks, type Module, type MaskSource } from '../../src/model/module.js';
import { TensorSource, loadInto } from '../../src/model/weights.js';
import { Case } from '../fixture.js';
import { expectClose } from '../helpers.js';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Masks from the fixture; a site the fixture lacks is an error (a naming mismatch), and every fixture mask must be used. */
function fixtureMasks(c: Case): { source: MaskSource; unused: () => string[] } {
  const used = new Set<string>();
  const all = [...c.st.entries.keys()].filter((k) => k.startsWith('mask.')).map((k) => k.slice(5));
  return {
    source: (site, shape) => {
      if (!c.has(`mask.${site}`)) throw new Error(`the engine asked for a mask at ${site} ${JSON.stringify(shape)}, which PyTorch did not draw`);
      expect(c.shape(`mask.${site}`), site).toEqual([...shape]);
      used.add(site);
      return c.f(`mask.${site}`);
    },
    unused: () => all.filter((s) => !used.has(s)),
  };
}

/** Loss = Σ last · R (R already zero on padding), backward, then outputs and every gradient against the fixture. */
async function checkStep(model: Module, c: Case, last: Tensor, valid: Float32Array, hidden: Tensor[], attentions: Array<Tensor | null>, label: string): Promise<void> {
  const R = c.f('in.R').map((r, i) => r * valid[i]!);
  const loss = sum(mul(last, fromArray(R, last.shape)));
  expectClose(await loss.toArray(), c.f('out.loss'), 1e-3, 1e-3, `${label} loss`);
  expectClose(mulValid(await last.toArray(), valid), mulValid(c.f('out.last_hidden_state'), valid), 1e-4, 1e-3, `${label} last hidden state`);
  for (const [i, h] of hidden.entries()) {
    const v = valid.length === h.size ? valid : expand(valid, h.size);
    expectClose(mulValid(await h.toArray(), v), mulValid(c.f(`out.hidden_states.${i}`), v), 1e-4, 1e-3, `${label} hidden state ${i}`);
  }
  for (const [i, a] of attentions.entries()) {
    expect(a === null, `${label} layer ${i} skipped by LayerDrop on both sides`).toBe(!c.has(`out.attentions.${i}`));
    if (a) expectClose(await a.toArray(), c.f(`out.attentions.${i}`), 1e-4, 1e-3, `${label} attentions ${i}`);
  }
  backward(loss);
  let compared = 0;
  for (const [name, p] of model.namedParameters()) {
    const key = `grad.${name}`;
    if (!c.has(key)) {
      // PyTorch gives no gradient to a layer LayerDrop skipped: ours must be absent or zero.
      if (p.grad) expect(Math.max(...Array.from(await p.grad.toArray(), Math.abs)), `${label} ${name}`).toBe(0);
      continue;
    }
    expect(p.grad, `${label} ${name} has a gradient`).not.toBeNull();
    const ref = c.f(key);
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    expectClose(await p.grad!.toArray(), ref, 1e-4 * scale, 1e-3, `${label} grad ${name}`);
    compared++;
  }
  expect(compared, `${label}: gradients compared`).toBeGreaterThan(20);
}

/** [B, T] validity expanded over the last dimension of a [B, T, D] tensor of `size` values. */
function expand(valid: Float32Array, size: number): Float32Array {
  const D = size / valid.length;
  return Float32Array.from({ length: size }, (_, i) => valid[Math.floor(i / D)]!);
}
const mulValid = (x: ArrayLike<number>, v: Float32Array): Float32Array => Float32Array.from(x, (a, i) => a * v[i]!);

describe('fine-tuning fidelity (training mode against PyTorch)', () => {
  for (const variant of ['base', 'large']) {
    it(`wavlm ${variant}: one training step with every dropout site, LayerDrop and SpecAugment on, masks from PyTorch — outputs, attentions, gradients`, async () => {
      const dir = join(fx, 'wavlm', variant);
      const c = new Case(`finetune/wavlm_${variant}`);
      const io = new Case(`wavlm/${variant}/io`);
      const config = { ...readWavLMConfig(dir), ...(c.meta.config as object) };
      const model = new WavLMModel(config).train();
      loadInto(model, TensorSource.fromFolder(dir), { what: dir });
      const [B, S] = io.shape('in.waveform') as [number, number];
      const masks = fixtureMasks(c);
      const out = await withMasks(model, masks.source, () => model.forward(fromArray(io.f('in.waveform'), [B, S]), [...io.i('in.lengths')], true, true));
      expect(masks.unused()).toEqual([]);
      expect(out.frameLengths).toEqual(c.meta.frame_lengths);
      const T = out.lastHiddenState.shape[1]!;
      const valid = new Float32Array(B * T * config.hidden_size);
      out.frameLengths.forEach((L, b) => valid.fill(1, b * T * config.hidden_size, (b * T + L) * config.hidden_size));
      await checkStep(model, c, out.lastHiddenState, valid, out.hiddenStates!, out.attentions!, `wavlm ${variant}`);
    });
  }

  it('roberta: one training step with embedding, attention-probability and output dropouts, masks from PyTorch — outputs, attentions, gradients', async () => {
    const dir = join(fx, 'roberta');
    const c = new Case('finetune/roberta');
    const io = new Case('roberta/io');
    const config = { ...readRobertaConfig(dir), ...(c.meta.config as object) };
    const model = new RobertaModel(config).train();
    loadInto(model, TensorSource.fromFolder(dir), { what: dir });
    const [B, T] = io.shape('in.input_ids') as [number, number];
    const am = io.i('in.attention_mask');
    const masks = fixtureMasks(c);
    const out = await withMasks(model, masks.source, () => model.forward(fromArray(io.i('in.input_ids'), [B, T], 'i32'), am, true, true));
    expect(masks.unused()).toEqual([]);
    const valid = expand(Float32Array.from(am), B * T * config.hidden_size);
    await checkStep(model, c, out.lastHiddenState, valid, out.hiddenStates!, out.attentions!, 'roberta');
  });

  it('eval mode: attention weights are softmax rows (sum 1 over valid keys, 0 on padded keys) and outputs equal the fused path', async () => {
    const dir = join(fx, 'wavlm', 'base');
    const io = new Case('wavlm/base/io');
    const model = new WavLMModel(readWavLMConfig(dir)).eval();
    loadInto(model, TensorSource.fromFolder(dir));
    const [B, S] = io.shape('in.waveform') as [number, number];
    const lengths = [...io.i('in.lengths')];
    const a = noGrad(() => model.forward(fromArray(io.f('in.waveform'), [B, S]), lengths, false, true));
    const b = noGrad(() => model.forward(fromArray(io.f('in.waveform'), [B, S]), lengths));
    expectClose(await a.lastHiddenState.toArray(), await b.lastHiddenState.toArray(), 1e-5, 1e-4, 'weights path = fused path');
    const T = a.lastHiddenState.shape[1]!;
    const w = Array.from(await a.attentions![0]!.toArray());
    expect(a.frameLengths[1]).toBeLessThan(T); // the second item is padded
    for (const [bi, L] of a.frameLengths.entries()) {
      for (const t of [0, L - 1]) {
        const row = w.slice((bi * T + t) * T, (bi * T + t + 1) * T);
        expect(row.slice(0, L).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        expect(row.slice(L).every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('each dropout site runs at its configured rate; LayerDrop at its rate; eval mode is identity; a seed repeats a training step exactly', async () => {
    const dir = join(fx, 'wavlm', 'base');
    const rates = { hidden_dropout: 0.1, attention_dropout: 0.3, activation_dropout: 0.2, feat_proj_dropout: 0.15, layerdrop: 0.5 };
    const config = { ...readWavLMConfig(dir), ...rates, mask_time_prob: 0.1, mask_time_length: 3 };
    const model = new WavLMModel(config, 1);
    loadInto(model, TensorSource.fromFolder(dir));
    // Every Dropout module, by its path, carries the rate of its config field.
    model.nameSites();
    const want = (site: string): number => (/attention\.dropout$/.test(site) ? rates.attention_dropout : /intermediate_dropout$/.test(site) ? rates.activation_dropout
      : /^feature_projection/.test(site) ? rates.feat_proj_dropout : rates.hidden_dropout);
    const { Dropout } = await import('../../src/model/module.js');
    const sites: Array<InstanceType<typeof Dropout>> = [];
    const walk = (m: object): void => {
      for (const [k, v] of Object.entries(m)) {
        if (k.startsWith('_')) continue;
        if (v instanceof Dropout) sites.push(v);
        else if (v && typeof v === 'object' && 'training' in v) walk(v);
        else if (Array.isArray(v)) v.forEach((x) => x && typeof x === 'object' && walk(x));
      }
    };
    walk(model);
    expect(sites.length).toBe(2 + 4 * config.num_hidden_layers); // projection, encoder; per layer: attention weights, attention output, FFN activation, FFN output
    model.train();
    const n = 200_000;
    for (const d of sites) {
      expect(d.p, d._site).toBe(want(d._site));
      const y = Array.from(await d.forward(fromArray(new Float32Array(n).fill(1), [n])).toArray());
      const dropped = y.filter((v) => v === 0).length / n;
      expect(Math.abs(dropped - d.p), `${d._site}: dropped ${dropped}`).toBeLessThan(4 * Math.sqrt((d.p * (1 - d.p)) / n));
      expect(y.every((v) => v === 0 || Math.abs(v - 1 / (1 - d.p)) < 1e-6), d._site).toBe(true);
    }
    const io = new Case('wavlm/base/io');
    const [B, S] = io.shape('in.waveform') as [number, number];
    const wave = (): Tensor => fromArray(io.f('in.waveform'), [B, S]);
    const lengths = [...io.i('in.lengths')];
    // LayerDrop: layers 1 and 2 skipped at its rate over 60 steps (layer 0 never).
    let skipped = 0;
    for (let k = 0; k < 60; k++) {
      const out = noGrad(() => model.forward(wave(), lengths, false, true));
      expect(out.attentions![0]).not.toBeNull();
      skipped += out.attentions!.slice(1).filter((a) => a === null).length;
    }
    expect(Math.abs(skipped / 120 - rates.layerdrop)).toBeLessThan(4 * Math.sqrt(0.25 / 120));
    // Eval mode: every site is identity (the PyTorch eval output, dropouts configured or not).
    model.eval();
    const T = 49;
    const valid = new Float32Array(B * T * config.hidden_size);
    [49, 34].forEach((L, b) => valid.fill(1, b * T * config.hidden_size, (b * T + L) * config.hidden_size));
    expectClose(mulValid(await noGrad(() => model.forward(wave(), lengths)).lastHiddenState.toArray(), valid), mulValid(io.f('out.masked.final'), valid), 1e-4, 1e-3, 'eval');
    // Fixed seed: the same training step twice; another seed differs.
    const step = async (seed: number): Promise<number[]> => {
      const m = new WavLMModel(config, seed).train();
      loadInto(m, TensorSource.fromFolder(dir));
      return Array.from(await noGrad(() => m.forward(wave(), lengths)).lastHiddenState.toArray());
    };
    const a = await step(5);
    expect(a).toEqual(await step(5));
    expect(a).not.toEqual(await step(6));
  });

  it('roberta: attention-probability dropout zeroes weights at its rate and scales the rest', async () => {
    const dir = join(fx, 'roberta');
    const config = { ...readRobertaConfig(dir), attention_probs_dropout_prob: 0.3, hidden_dropout_prob: 0 };
    const model = new RobertaModel(config, 2).train();
    loadInto(model, TensorSource.fromFolder(dir));
    const io = new Case('roberta/io');
    const [B, T] = io.shape('in.input_ids') as [number, number];
    const am = io.i('in.attention_mask');
    const out = noGrad(() => model.forward(fromArray(io.i('in.input_ids'), [B, T], 'i32'), am, false, true));
    let zeros = 0;
    let total = 0;
    for (const a of out.attentions!) {
      const w = await a.toArray();
      const H = a.shape[1]!;
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let s2 = 0; s2 < T; s2++) {
        if (!am[b * T + t] || !am[b * T + s2]) continue; // valid query and key
        total++;
        if (w[((b * H + h) * T + t) * T + s2] === 0) zeros++;
      }
    }
    expect(total).toBeGreaterThan(500);
    expect(Math.abs(zeros / total - 0.3)).toBeLessThan(4 * Math.sqrt(0.21 / total));
  });
});
