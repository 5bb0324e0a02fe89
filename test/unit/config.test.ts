// The schemas behind every setting: command flags, the training config (file and flags), and
// Hugging Face config.json files — each bad value stops with one line naming where it came from.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags, helpText, configFromFlags, UsageError, type FlagTable } from '../../src/util/flags.js';
import { checkTrainConfig, checkTrainRules } from '../../src/train/config.js';
import { resolveTrainConfig } from '../../src/train/trainer.js';
import { readRobertaConfig, ROBERTA_DEFAULTS } from '../../src/model/roberta.js';
import { readWavLMConfig, WAVLM_DEFAULTS } from '../../src/model/wavlm.js';
import { SchemaError } from '../../src/util/schema.js';

const FLAGS = {
  epochs: { type: 'int', key: 'epochs', help: 'epochs' },
  lr: { type: 'number', key: 'lr', help: 'rate' },
  metric: { type: 'enum', values: ['uar', 'macroF1'], key: 'bestMetric', help: 'metric', default: 'macroF1' },
  'no-mlcs': { type: 'boolean', key: 'crab.mlcsLayers', sets: [], help: 'baseline' },
  out: { type: 'string', help: 'folder', required: true },
} satisfies FlagTable;

const fails = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('flags', () => {
  it('flags: typed values, defaults, config keys from the flags given', () => {
    const argv = ['--epochs', '3', '--lr=2e-3', '--no-mlcs', '--out', 'x'];
    const { values } = parseFlags('t', FLAGS, argv);
    expect(values).toEqual({ epochs: 3, lr: 0.002, metric: 'macroF1', 'no-mlcs': true, out: 'x' });
    expect(configFromFlags(FLAGS, values, (n) => argv.some((a) => a.startsWith(`--${n}`)))).toEqual({ epochs: 3, lr: 0.002, crab: { mlcsLayers: [] } });
  });
  it('flags: each bad call is a usage error naming the flag, the value and what is allowed', () => {
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', '--epochs', '-1']))).toBe('UsageError: --epochs: "-1" is not allowed: expected ≥ 1');
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', '--epochs', '2.5']))).toBe('UsageError: --epochs: "2.5" is not allowed: expected an integer');
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', '--lr', 'fast']))).toBe('UsageError: --lr: "fast" is not allowed: expected a number');
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', '--metric', 'foo']))).toBe('UsageError: --metric: "foo" is not allowed: expected one of "uar", "macroF1"');
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', '--bogus']))).toBe('UsageError: t: unknown option --bogus (see crab t --help)');
    expect(fails(() => parseFlags('t', FLAGS, ['--out']))).toBe('UsageError: t: --out needs a value (see crab t --help)');
    expect(fails(() => parseFlags('t', FLAGS, []))).toBe('UsageError: t: --out is required');
    expect(fails(() => parseFlags('t', FLAGS, ['--out', 'x', 'stray']))).toBe('UsageError: t: unexpected argument "stray" (see crab t --help)');
    expect(new UsageError('x')).toBeInstanceOf(Error);
  });
  it('flags: --help lists every flag with its values, default and config key', () => {
    const h = helpText('crab t [options]', 'Does t.', FLAGS);
    for (const line of ['--epochs N', 'config key epochs', '--metric uar|macroF1', 'default macroF1', '--out VALUE', 'required', '--no-mlcs']) expect(h).toContain(line);
  });
});

describe('train config', () => {
  const where = (p: readonly PropertyKey[]): string => `run.yaml: ${p.join('.')}`;
  it('train config: the issue\'s cases are refused with the key, the value and what is allowed', () => {
    expect(fails(() => checkTrainConfig({ epochs: -5 }, where))).toBe('SchemaError: run.yaml: epochs: -5 is not allowed: expected > 0');
    expect(fails(() => checkTrainConfig({ crab: { hiden: 32 } }, where))).toMatch(/^SchemaError: run\.yaml: crab\.hiden: unknown key \(known: hidden, fusionHidden/);
    expect(fails(() => checkTrainConfig({ epoch: 5 }, where))).toMatch(/^SchemaError: run\.yaml: epoch: unknown key \(known: crab, epochs,/);
    expect(fails(() => checkTrainConfig({ crab: { hidden: 33 } }, where))).toMatch(/^SchemaError: run\.yaml: crab\.hidden: 33 is not allowed: expected an even number/);
    expect(fails(() => checkTrainConfig({ bestMetric: 'foo' }, where))).toBe('SchemaError: run.yaml: bestMetric: "foo" is not allowed: expected one of "macroF1", "uar", "accuracy", "weightedF1"');
    expect(fails(() => checkTrainConfig({ crab: { attentionDropout: 1 } }, where))).toBe('SchemaError: run.yaml: crab.attentionDropout: 1 is not allowed: expected < 1');
    expect(fails(() => checkTrainConfig({ crab: { mlcsLayers: ['fusion', 'bogus'] } }, where))).toMatch(/crab\.mlcsLayers\.1: "bogus" is not allowed: expected one of "speech_frame"/);
    expect(fails(() => checkTrainConfig({ lr: '1e-3' }, where))).toBe('SchemaError: run.yaml: lr: "1e-3" is not allowed: expected a number');
    expect(checkTrainConfig({ epochs: 3, crab: { hidden: 64 } }, where)).toEqual({ epochs: 3, crab: { hidden: 64 } });
  });
  it('train config: rules across keys (heads divide 2·hidden, the floor under the rate)', () => {
    expect(fails(() => checkTrainRules(resolveTrainConfig({ crab: { hidden: 32, attentionHeads: 5 } }), where))).toBe('SchemaError: run.yaml: crab.attentionHeads: 5 heads do not divide the attention width 2·hidden = 64 (hidden 32)');
    expect(fails(() => checkTrainRules(resolveTrainConfig({ crab: { hidden: 10, crossModalLayers: 1 } }), where))).toMatch(/crab\.crossModalHeads: 8 heads do not divide the attention width 2·hidden = 20/);
    expect(fails(() => checkTrainRules(resolveTrainConfig({ lr: 1e-4, lrFloor: 1e-3 }), where))).toMatch(/lrFloor: 0\.001 is not allowed: the learning-rate floor must not exceed lr/);
    expect(fails(() => checkTrainRules(resolveTrainConfig({ crab: { hidden: 32, attentionHeads: 4, crossModalLayers: 2 } }), where))).toBe('no error');
  });
});

describe('hf config.json', () => {
  const folder = (config: object): string => {
    const d = mkdtempSync(join(tmpdir(), 'hfcfg-'));
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    return d;
  };
  it('roberta config: hidden_size not divisible by the heads, negative layer counts, unknown activations, pad outside the vocabulary', () => {
    const ok = { ...ROBERTA_DEFAULTS, architectures: ['RobertaModel'], model_type: 'roberta' };
    expect(readRobertaConfig(folder(ok)).hidden_size).toBe(768);
    let d = folder({ ...ok, hidden_size: 50, num_attention_heads: 4 });
    expect(fails(() => readRobertaConfig(d))).toBe(`SchemaError: ${d}/config.json: hidden_size: 50 is not allowed: not divisible by num_attention_heads = 4`);
    d = folder({ ...ok, num_hidden_layers: -2 });
    expect(fails(() => readRobertaConfig(d))).toBe(`SchemaError: ${d}/config.json: num_hidden_layers: -2 is not allowed: expected > 0`);
    d = folder({ ...ok, hidden_act: 'relu' });
    expect(fails(() => readRobertaConfig(d))).toBe(`SchemaError: ${d}/config.json: hidden_act: "relu" is not allowed: expected one of "gelu", "gelu_python"`);
    d = folder({ ...ok, vocab_size: 10, pad_token_id: 10 });
    expect(fails(() => readRobertaConfig(d))).toMatch(/pad_token_id: 10 is not allowed: outside the vocabulary \(vocab_size 10\)/);
    d = folder({ ...ok, max_position_embeddings: 2 });
    expect(fails(() => readRobertaConfig(d))).toMatch(/max_position_embeddings: 2 is not allowed: positions start at pad_token_id \+ 1 = 2/);
  });
  it('wavlm config: conv lists of different lengths, positional groups that do not divide the width, rates above 1', () => {
    const ok = { ...WAVLM_DEFAULTS, model_type: 'wavlm' };
    expect(readWavLMConfig(folder(ok)).conv_dim).toHaveLength(7);
    let d = folder({ ...ok, conv_kernel: [10, 3, 3] });
    expect(fails(() => readWavLMConfig(d))).toMatch(/conv_kernel: \[10,3,3\] is not allowed: conv_dim, conv_kernel and conv_stride must have one entry per conv layer \(7, 3, 7\)/);
    d = folder({ ...ok, num_conv_pos_embedding_groups: 5 });
    expect(fails(() => readWavLMConfig(d))).toMatch(/num_conv_pos_embedding_groups: 5 is not allowed: does not divide hidden_size = 768/);
    d = folder({ ...ok, layerdrop: 1.5 });
    expect(fails(() => readWavLMConfig(d))).toMatch(/layerdrop: 1\.5 is not allowed: expected ≤ 1/);
    d = folder({ ...ok, feat_extract_norm: 'batch' });
    expect(fails(() => readWavLMConfig(d))).toMatch(/feat_extract_norm: "batch" is not allowed: expected one of "group", "layer"/);
    expect(new SchemaError('x').name).toBe('SchemaError');
  });
});
