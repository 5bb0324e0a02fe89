// WavLM against the PyTorch fixtures (test/fixtures/wavlm: tiny base-style and large-style models
// under HF names, a padded batch of two waveforms, every layer's output), loaded from HF folders.
import { describe, it, expect } from 'vitest';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArray, noGrad } from '../../src/tensor/tensor.js';
import { WavLMModel, readWavLMConfig, relativePositionBucket } from '../../src/model/wavlm.js';
import { TensorSource, loadInto } from '../../src/model/weights.js';
import { Case } from '../fixture.js';
import { expectClose, validRows } from '../helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'wavlm');


describe('wavlm', () => {
  it('wavlm relative position buckets equal torch\'s, both branches', () => {
    const c = new Case('wavlm/rel_pos_buckets');
    const rel = c.i('in.relative_position');
    const want = c.i('out.bucket');
    const got = Array.from(rel, (r) => relativePositionBucket(r));
    expect(got).toEqual([...want]);
  });
  for (const variant of ['base', 'large']) {
    it(`wavlm ${variant}: conv features, frame lengths and every layer match PyTorch on valid frames (masked batch)`, async () => {
      const dir = join(root, variant);
      const config = readWavLMConfig(dir);
      const model = new WavLMModel(config).eval();
      loadInto(model, TensorSource.fromFolder(dir), { what: dir });
      const c = new Case(`wavlm/${variant}/io`);
      const [B, S] = c.shape('in.waveform') as [number, number];
      const lengths = [...c.i('in.lengths')];
      const out = model.forward(fromArray(c.f('in.waveform'), [B, S]), lengths, true);
      expect(out.frameLengths).toEqual([...c.i('out.frame_lengths')]);
      const T = out.lastHiddenState.shape[1]!;
      const D = config.hidden_size;
      // The conv encoder sees the zero-padded waveform; compare every frame.
      expectClose(await out.convFeatures.toArray(), c.f('out.conv_features'), 1e-4, 1e-3, 'conv_features');
      for (let i = 0; i < config.num_hidden_layers; i++) {
        const ref = i === config.num_hidden_layers - 1 ? 'out.masked.final' : `out.masked.layer.${i}`;
        expectClose(validRows(await out.hiddenStates![i + 1]!.toArray(), T, D, out.frameLengths), validRows(c.f(ref), T, D, out.frameLengths), 1e-4, 1e-3, `${variant} layer ${i}`);
      }
      expectClose(validRows(await out.lastHiddenState.toArray(), T, D, out.frameLengths), validRows(c.f('out.masked.final'), T, D, out.frameLengths), 1e-4, 1e-3, `${variant} final`);
      // One clip without gradients (the path feature extraction takes: the first conv layer's
      // group norm reads its product in place): the first item's conv features.
      const one = noGrad(() => model.forward(fromArray(c.f('in.waveform').subarray(0, S), [1, S])));
      const F = out.convFeatures.shape[2]!;
      expectClose(await one.convFeatures.toArray(), c.f('out.conv_features').subarray(0, T * F), 1e-4, 1e-3, `${variant} conv_features, one clip without gradients`);
    });
  }
});

describe('wavlm training extras', () => {
  it('wavlm: one clip through the first conv layer\'s in-place path gives the batched path\'s gradients (feature encoder weights, group norm affine)', async () => {
    const { mean, square, backward } = await import('../../src/kernels/index.js');
    const dir = join(root, 'base');
    const c = new Case('wavlm/base/io');
    const S = c.shape('in.waveform')[1]!;
    const clip = c.f('in.waveform').subarray(0, S);
    const grads = async (B: number): Promise<Float32Array[]> => {
      const model = new WavLMModel(readWavLMConfig(dir)).eval();
      loadInto(model, TensorSource.fromFolder(dir));
      const wave = new Float32Array(B * S);
      for (let b = 0; b < B; b++) wave.set(clip, b * S);
      // Mean over the batch: B copies of one clip have the one clip's gradients.
      backward(mean(square(model.feature_extractor.forward(fromArray(wave, [B, S])))));
      const first = model.feature_extractor.conv_layers[0]!;
      return Promise.all([first.conv.weight, first.layer_norm!.weight, first.layer_norm!.bias, model.feature_extractor.conv_layers[1]!.conv.weight]
        .map(async (t) => (await t.grad!.toArray()) as Float32Array));
    };
    const [one, two] = [await grads(1), await grads(2)];
    ['conv_layers.0.conv.weight', 'conv_layers.0.layer_norm.weight', 'conv_layers.0.layer_norm.bias', 'conv_layers.1.conv.weight']
      .forEach((name, i) => expectClose(one[i]!, two[i]!, 1e-5, 1e-3, name));
  });
  it('wavlm SpecAugment spans follow HF\'s rule; LayerDrop and masking act only in training and repeat with the seed', async () => {
    const { timeMaskSpans } = await import('../../src/model/wavlm.js');
    const { Rng } = await import('../../src/tensor/tensor.js');
    const m = timeMaskSpans([100, 30, 5], 100, 0.05, 10, 2, new Rng(3));
    const count = (b: number): number => m.slice(b * 100, b * 100 + 100).reduce((a, v) => a + v, 0);
    expect(count(0)).toBeGreaterThanOrEqual(10); // ≥ 2 spans of 10, overlaps allowed
    expect(count(0)).toBeLessThanOrEqual(20);
    expect(m.slice(100 + 30, 200).every((v) => v === 0)).toBe(true); // never past the valid frames
    expect(count(2)).toBe(0); // shorter than one span
    const dir = join(root, 'large');
    const config = { ...readWavLMConfig(dir), mask_time_prob: 0.5, layerdrop: 0.5 };
    const c = new Case('wavlm/large/io');
    const [B, S] = c.shape('in.waveform') as [number, number];
    const run = async (train: boolean, seed: number): Promise<Float32Array> => {
      const model = new WavLMModel(config, seed);
      loadInto(model, TensorSource.fromFolder(dir));
      model.train(train);
      return (await model.forward(fromArray(c.f('in.waveform'), [B, S])).lastHiddenState.toArray()) as Float32Array;
    };
    const evalOut = await run(false, 1);
    expectClose(evalOut, c.f('out.nomask.final'), 1e-4, 1e-3, 'eval mode ignores layerdrop and masking');
    const a = await run(true, 5);
    expect([...a]).toEqual([...(await run(true, 5))]);
    expect([...a]).not.toEqual([...evalOut]);
  });
});
