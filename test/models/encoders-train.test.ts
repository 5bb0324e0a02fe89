// RoBERTa and WavLM in training mode: gradients reach every weight, and spot checks against
// central differences of the model's own forward (f32, so the tolerance is loose).
import { describe, it, expect } from 'vitest';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArray, noGrad, tidy, Tensor, upload } from '../../src/tensor/tensor.js';
import { mean, square } from '../../src/kernels/index.js';
import { RobertaModel, readRobertaConfig } from '../../src/model/roberta.js';
import { WavLMModel, readWavLMConfig } from '../../src/model/wavlm.js';
import { TensorSource, loadInto } from '../../src/model/weights.js';
import { Case } from '../fixture.js';
import type { Module } from '../../src/model/module.js';
import { backward } from '../../src/kernels/autograd.js';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Checks every parameter's gradient is finite and, for a few entries, matches finite differences. */
async function checkGrads(model: Module, loss: () => Tensor, picks: Array<[string, number]>, skip: RegExp[] = []): Promise<void> {
  const l = tidy(() => {
    const x = loss();
    backward(x);
    return x;
  });
  await l.item();
  const params = model.namedParameters();
  let withGrad = 0;
  for (const [n, p] of params) {
    if (skip.some((r) => r.test(n))) continue;
    expect(p.grad, `${n} has a gradient`).not.toBeNull();
    const g = await p.grad!.toArray();
    expect(g.every(Number.isFinite), `${n} gradient is finite`).toBe(true);
    withGrad++;
  }
  expect(withGrad).toBeGreaterThan(10);
  for (const [name, idx] of picks) {
    const p = params.get(name)!;
    const g = (await p.grad!.toArray())[idx]!;
    const data = Float32Array.from(await p.toArray());
    const eps = 1e-2 * Math.max(1, Math.abs(data[idx]!));
    const at = async (v: number): Promise<number> => {
      const d = Float32Array.from(data);
      d[idx] = v;
      upload(p, d);
      return noGrad(() => tidy(() => loss())).item();
    };
    const fd = ((await at(data[idx]! + eps)) - (await at(data[idx]! - eps))) / (2 * eps);
    upload(p, data);
    expect(Math.abs(g - fd), `${name}[${idx}]: autograd ${g} vs finite difference ${fd}`).toBeLessThanOrEqual(0.05 * Math.abs(fd) + 2e-4);
  }
}

describe('encoders in training mode', () => {
  it('roberta: gradients reach every weight and match finite differences', async () => {
    const dir = join(fx, 'roberta');
    const model = new RobertaModel(readRobertaConfig(dir));
    loadInto(model, TensorSource.fromFolder(dir));
    model.train();
    const c = new Case('roberta/io');
    const [B, T] = c.shape('in.input_ids') as [number, number];
    const ids = fromArray(c.i('in.input_ids'), [B, T], 'i32');
    const mask = c.i('in.attention_mask');
    await checkGrads(model, () => mean(square(model.forward(ids, mask).lastHiddenState)), [
      ['encoder.layer.0.attention.self.query.weight', 17], ['encoder.layer.1.output.dense.bias', 3], ['embeddings.LayerNorm.weight', 5], ['embeddings.word_embeddings.weight', 48 * 5 + 2],
    ]);
  });
  it('wavlm (large family): gradients reach every weight, including the gate and relative-position embedding', async () => {
    const dir = join(fx, 'wavlm', 'large');
    // SpecAugment and LayerDrop off: finite differences need the same function at every evaluation.
    const model = new WavLMModel({ ...readWavLMConfig(dir), apply_spec_augment: false, layerdrop: 0 });
    loadInto(model, TensorSource.fromFolder(dir));
    model.train();
    const c = new Case('wavlm/large/io');
    const [B, S] = c.shape('in.waveform') as [number, number];
    const wave = fromArray(c.f('in.waveform'), [B, S]);
    const lengths = [...c.i('in.lengths')];
    await checkGrads(model, () => mean(square(model.forward(wave, lengths).lastHiddenState)), [
      ['encoder.layers.0.attention.rel_attn_embed.weight', 165 * 4 + 1], ['encoder.layers.1.attention.gru_rel_pos_linear.weight', 3],
      ['encoder.pos_conv_embed.conv.weight_g', 64], ['feature_extractor.conv_layers.0.conv.weight', 4], ['feature_extractor.conv_layers.1.conv.weight', 7],
    ], [/^masked_spec_embed$/]);
  });
});
