// RoBERTa against the PyTorch fixture (test/fixtures/roberta: a tiny random RoBERTa under HF
// names, every layer's output for a padded batch), loaded from an HF-style folder.
import { describe, it, expect } from 'vitest';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArray } from '../../src/tensor/tensor.js';
import { RobertaModel, readRobertaConfig, robertaPositionIds } from '../../src/model/roberta.js';
import { TensorSource, loadInto } from '../../src/model/weights.js';
import { Case } from '../fixture.js';
import { expectClose, validRows } from '../helpers.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'roberta');


describe('roberta', () => {
  it('roberta position ids follow the fairseq/HF rule', () => {
    const c = new Case('roberta/io');
    const ids = c.i('in.input_ids');
    expect([...robertaPositionIds(ids, 12, 1)]).toEqual([...c.i('out.position_ids')]);
  });
  it('roberta from an HF folder reproduces every layer of PyTorch on valid tokens', async () => {
    const config = readRobertaConfig(dir);
    const model = new RobertaModel(config).eval();
    loadInto(model, TensorSource.fromFolder(dir), { what: dir });
    const c = new Case('roberta/io');
    const [B, T] = c.shape('in.input_ids') as [number, number];
    const mask = c.i('in.attention_mask');
    const lengths = Array.from({ length: B }, (_, b) => mask.slice(b * T, (b + 1) * T).reduce((s, v) => s + v, 0));
    const out = model.forward(fromArray(c.i('in.input_ids'), [B, T], 'i32'), mask, true);
    const D = config.hidden_size;
    const names = ['out.embeddings', 'out.layer.0', 'out.layer.1'];
    for (let i = 0; i < names.length; i++) {
      expectClose(validRows(await out.hiddenStates![i]!.toArray(), T, D, lengths), validRows(c.f(names[i]!), T, D, lengths), 1e-4, 1e-3, names[i]);
    }
    expectClose(validRows(await out.lastHiddenState.toArray(), T, D, lengths), validRows(c.f('out.final'), T, D, lengths), 1e-4, 1e-3, 'final');
  });
  it('roberta loading reports every missing and unexpected tensor by name', () => {
    const config = { ...readRobertaConfig(dir), num_hidden_layers: 3 };
    const model = new RobertaModel(config);
    expect(() => loadInto(model, TensorSource.fromFolder(dir), { what: 'tiny' })).toThrow(/missing from the checkpoint \(16\): encoder\.layer\.2\.attention\.self\.query\.weight/);
  });
});

describe('adapter limits', () => {
  it('a parameter larger than the largest storage binding is refused by name, with its size and the limit; embedding tables are not (they are gathered in chunks)', async () => {
    const { checkBindingLimits } = await import('../../src/model/weights.js');
    const model = new RobertaModel(readRobertaConfig(dir));
    // The word embedding (300 × 48 floats = 56.3 KiB) is the largest tensor; the largest other one
    // is a feed-forward weight. Limits just under and at that one stand in for 128 MiB.
    const params = [...model.namedParameters()].filter(([n]) => !n.endsWith('_embeddings.weight'));
    const [name, largest] = params.reduce((a, b) => (b[1].size > a[1].size ? b : a));
    expect(model.embeddings.word_embeddings.weight.size).toBeGreaterThan(largest.size);
    const limit = largest.size * 4;
    expect(() => checkBindingLimits(model, 'tiny-roberta', limit - 4)).toThrow(new RegExp(`^tiny-roberta: ${name.replace(/\./g, '\\.')} \\[${largest.shape.join(', ')}\\] is .*more than this adapter's largest storage binding \\(maxStorageBufferBindingSize`));
    expect(() => checkBindingLimits(model, 'tiny-roberta', limit)).not.toThrow();
  });
});
