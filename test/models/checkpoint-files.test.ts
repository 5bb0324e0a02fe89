// Checkpoint files: pytorch_model.bin written by the real torch.save (tools/gen_torchbin.py) and
// read without running its pickle; hostile safetensors and pickles give clear errors.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTorchBin } from '../../src/model/folder.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { TensorSource, loadInto } from '../../src/model/weights.js';
import { RobertaModel, readRobertaConfig } from '../../src/model/roberta.js';
import { fromArray } from '../../src/tensor/tensor.js';
import { Case } from '../fixture.js';
import { expectClose, validRows } from '../helpers.js';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

describe('pytorch_model.bin', () => {
  it('checkpoint: a RoBERTa folder with only pytorch_model.bin reproduces PyTorch', async () => {
    const dir = join(fx, 'torchbin', 'roberta');
    const model = new RobertaModel(readRobertaConfig(dir)).eval();
    loadInto(model, TensorSource.fromFolder(dir), { what: dir });
    const c = new Case('roberta/io');
    const [B, T] = c.shape('in.input_ids') as [number, number];
    const mask = c.i('in.attention_mask');
    const lengths = Array.from({ length: B }, (_, b) => mask.slice(b * T, (b + 1) * T).reduce((s, v) => s + v, 0));
    const out = model.forward(fromArray(c.i('in.input_ids'), [B, T], 'i32'), mask);
    expectClose(validRows(await out.lastHiddenState.toArray(), T, 48, lengths), validRows(c.f('out.final'), T, 48, lengths), 1e-4, 1e-3, 'final');
  });
  it('checkpoint: f16, int64 and non-contiguous (transposed) tensors read exactly', () => {
    const f = openTorchBin(join(fx, 'torchbin', 'mixed.bin'));
    const want = JSON.parse(readFileSync(join(fx, 'torchbin', 'mixed.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    for (const [name, w] of Object.entries(want)) {
      expect(f.shape(name)).toEqual(w.shape);
      expect([...f.get(name)]).toEqual(w.values.map(Math.fround));
    }
  });
  it('checkpoint: a pickle that calls os.system is refused and nothing runs', () => {
    const marker = '/tmp/crab-ser-pwned';
    expect(() => openTorchBin(join(fx, 'torchbin', 'hostile.bin'))).toThrow(/refusing to load: the pickle references posix\.system/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('hostile safetensors', () => {
  const good = (): Buffer => {
    const header = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    return Buffer.concat([len, header, Buffer.from(new Float32Array([1, 2, 3]).buffer)]);
  };
  const withHeader = (h: object, data = 12): Buffer => {
    const header = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    return Buffer.concat([len, header, Buffer.alloc(data)]);
  };
  const open = (b: Buffer): SafetensorsFile => {
    const p = join(mkdtempSync(join(tmpdir(), 'st-')), 'x.safetensors');
    writeFileSync(p, b);
    return SafetensorsFile.open(p);
  };
  it('safetensors: a good file reads, and each kind of damage is named', () => {
    expect([...open(good()).float32('a')]).toEqual([1, 2]);
    expect(() => open(good().subarray(0, good().length - 2))).toThrow(/tensor "b": data_offsets end 12 is past the end of the data \(10 bytes\); truncated/);
    const huge = good();
    huge.writeBigUInt64LE(10n ** 12n);
    expect(() => open(huge)).toThrow(/header length 1000000000000 is larger than the rest of the file/);
    expect(() => open(Buffer.alloc(4))).toThrow(/fewer than the 8-byte header length/);
    expect(() => open(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }))).toThrow(/"a" and "b" overlap/);
    expect(() => open(withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }))).toThrow(/F32 \[3\] needs 12 bytes but data_offsets span 8/);
    expect(() => open(withHeader({ a: { dtype: 'Q8', shape: [3], data_offsets: [0, 3] } }))).toThrow(/unsupported dtype "Q8"/);
    expect(() => open(withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }))).toThrow(/shape \[-1\] is not a list of non-negative integers/);
  });
});
