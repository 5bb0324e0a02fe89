// The training system on the synthetic corpus: determinism, a smoke run where the loss falls,
// exact resume after an interruption, checkpoint round trip.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, copyFileSync, renameSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCorpus, SYNTHETIC_LABELS } from '../../src/data/synthetic.js';
import { syntheticFeatures } from '../../src/data/features.js';
import { makeBatch } from '../../src/data/batch.js';
import { train, loadBest, InterruptedError, RunFolderError, type TrainConfig, type TrainState } from '../../src/train/trainer.js';
import { Crab } from '../../src/model/crab.js';
import { saveCheckpoint, loadCheckpoint, readState } from '../../src/train/run_checkpoint.js';
import type { FeatureSet } from '../../src/data/features.js';
import { noGrad } from '../../src/tensor/tensor.js';
import { cosineLr } from '../../src/train/schedule.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'crab-test-'));
const CFG: Partial<TrainConfig> = { crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8, attentionDropout: 0.1, classifierDropout: 0.1 }, epochs: 3, batchSize: 16, lr: 3e-3, seed: 3 };

function stepLosses(runDir: string): number[] {
  return readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.loss);
}

describe('synthetic corpus', () => {
  it('synthetic corpus is deterministic, split by speaker, balanced when acted and imbalanced when natural', () => {
    const a = syntheticCorpus({ condition: 'acted', size: 64, seed: 5 });
    const b = syntheticCorpus({ condition: 'acted', size: 64, seed: 5 });
    expect(a.map((u) => u.text)).toEqual(b.map((u) => u.text));
    expect(a[3]!.audio).toEqual(b[3]!.audio);
    const acted = SYNTHETIC_LABELS.map((_, c) => a.filter((u) => u.label === c).length);
    expect(new Set(acted).size).toBe(1); // balanced
    for (const split of ['train', 'dev', 'test'] as const) {
      const spk = new Set(a.filter((u) => u.split === split).map((u) => u.speaker));
      for (const other of ['train', 'dev', 'test'] as const) if (other !== split) for (const s of spk) expect(a.some((u) => u.split === other && u.speaker === s)).toBe(false);
      expect(new Set(a.filter((u) => u.split === split).map((u) => u.label)).size).toBe(4); // every split sees every class
    }
    const nat = syntheticCorpus({ condition: 'natural', size: 400, seed: 5 });
    const counts = SYNTHETIC_LABELS.map((_, c) => nat.filter((u) => u.label === c).length);
    expect(counts[0]!).toBeGreaterThan(2 * Math.max(...counts.slice(1)));
  });
  it('schedule: cosine from base to floor with linear warm-up', () => {
    expect(cosineLr(1, 0, { total: 10 })).toBe(1);
    expect(cosineLr(1, 10, { total: 10, floor: 0.1 })).toBeCloseTo(0.1, 12);
    expect(cosineLr(1, 5, { total: 10 })).toBeCloseTo(0.5, 12);
    expect(cosineLr(1, 0, { total: 10, warmup: 4 })).toBeCloseTo(0.25, 12);
  });
});

describe('training', () => {
  let features: FeatureSet;
  beforeAll(async () => {
    features = await syntheticFeatures({ condition: 'acted', size: 64, cacheDir: tmp(), quiet: true });
  });

  it('training smoke: the loss falls over a few epochs and checkpoints appear', async () => {
    const dir = tmp();
    const st = await train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 6 }, { runDir: dir, quiet: true });
    const losses = stepLosses(dir);
    const first = losses.slice(0, 3).reduce((a, b) => a + b, 0) / 3;
    const last = losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
    expect(last).toBeLessThan(first);
    expect(st.history).toHaveLength(6);
    for (const f of ['best/model.safetensors', 'best/state.json', 'last/optimizer.safetensors', 'log.jsonl']) expect(existsSync(join(dir, f))).toBe(true);
  });

  it('training resume: interrupt mid-epoch, resume, and get the same loss sequence as an uninterrupted run', async () => {
    const full = tmp();
    await train(features, [...SYNTHETIC_LABELS], CFG, { runDir: full, quiet: true });
    const split = tmp();
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: split, quiet: true, stopAfterSteps: 5 })).rejects.toBeInstanceOf(InterruptedError);
    await train(features, [...SYNTHETIC_LABELS], CFG, { runDir: split, quiet: true, resume: true });
    expect(stepLosses(split)).toEqual(stepLosses(full));
    // The interrupted epoch's mean loss covers its steps before and after the interrupt.
    const epochLosses = (d: string): number[] => readState<TrainState>(join(d, 'last')).history.map((h) => h.trainLoss);
    expect(epochLosses(split)).toEqual(epochLosses(full));
  });

  it('run folder: a checkpoint is one unit (a damaged one is refused by name, a half-written one is never read, one between renames is recovered)', async () => {
    const full = tmp();
    await train(features, [...SYNTHETIC_LABELS], CFG, { runDir: full, quiet: true });
    // Files of two different saves (kill -9 between them): refused, naming the file.
    const mixed = tmp();
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: mixed, quiet: true, stopAfterSteps: 5 })).rejects.toBeInstanceOf(InterruptedError);
    const other = tmp();
    await saveCheckpoint(other, new Crab({ speechDim: features.speechDim, textDim: features.textDim, numClasses: 4, hidden: CFG.crab!.hidden, fusionHidden: CFG.crab!.fusionHidden, contrastiveDim: CFG.crab!.contrastiveDim }, 3), null, {});
    copyFileSync(join(other, 'model.safetensors'), join(mixed, 'last', 'model.safetensors'));
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: mixed, quiet: true, resume: true })).rejects.toThrow(/last: model\.safetensors does not match the hash recorded in state\.json/);
    // A save killed while writing leaves last.partial/; one killed between its renames leaves last.old/.
    const crashed = tmp();
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: crashed, quiet: true, stopAfterSteps: 5 })).rejects.toBeInstanceOf(InterruptedError);
    renameSync(join(crashed, 'last'), join(crashed, 'last.old'));
    mkdirSync(join(crashed, 'last.partial'));
    writeFileSync(join(crashed, 'last.partial', 'model.safetensors'), 'half');
    await train(features, [...SYNTHETIC_LABELS], CFG, { runDir: crashed, quiet: true, resume: true });
    expect(stepLosses(crashed)).toEqual(stepLosses(full));
  });

  it('run folder: --resume needs a checkpoint and the same settings; a used folder needs --resume or --overwrite', async () => {
    const dir = tmp();
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: dir, quiet: true, resume: true })).rejects.toThrow(/nothing to resume \(no last\/ checkpoint\)/);
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: dir, quiet: true, stopAfterSteps: 2, corpus: 'synthetic-acted-64' })).rejects.toBeInstanceOf(InterruptedError);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).config.epochs).toBe(CFG.epochs);
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: dir, quiet: true })).rejects.toThrow(/already holds a run \(last, log\.jsonl, run\.json\); continue it with --resume, replace it with --overwrite/);
    await expect(train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 7 }, { runDir: dir, quiet: true, resume: true })).rejects.toThrow(new RegExp(`config epochs: ${CFG.epochs} → 7`));
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: dir, quiet: true, resume: true, corpus: 'synthetic-natural-64' })).rejects.toThrow(/corpus "synthetic-acted-64" → "synthetic-natural-64"/);
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir: dir, quiet: true, resume: true, corpus: 'other' })).rejects.toBeInstanceOf(RunFolderError);
    const st = await train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 1 }, { runDir: dir, quiet: true, overwrite: true });
    expect(st.history).toHaveLength(1);
    expect(readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').filter((l) => l.includes('"epoch"') && l.includes('"type":"epoch"'))).toHaveLength(1);
  });

  it('checkpoint round trip: a reloaded head gives the same logits; the exported best checkpoint has no MLCS heads', async () => {
    const dir = tmp();
    const crab = new Crab({ speechDim: features.speechDim, textDim: features.textDim, numClasses: 4, hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, 9).eval();
    await saveCheckpoint(dir, crab, null, { note: 'test' });
    const again = new Crab({ speechDim: features.speechDim, textDim: features.textDim, numClasses: 4, hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, 10).eval();
    loadCheckpoint(dir, again);
    const b = makeBatch(features.items.slice(0, 5), features);
    const [x, y] = noGrad(() => [crab.forward(b, false).logits, again.forward(b, false).logits]);
    expect([...(await x!.toArray())]).toEqual([...(await y!.toArray())]);
    const run = tmp();
    await train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 1 }, { runDir: run, quiet: true });
    const { crab: best } = loadBest(run);
    expect(best.config.numClasses).toBe(4);
    const names = JSON.parse(readFileSync(join(run, 'best', 'model.safetensors')).subarray(8, 8 + Number(readFileSync(join(run, 'best', 'model.safetensors')).readBigUInt64LE(0))).toString());
    expect(Object.keys(names).some((n) => n.includes('contrastive_mlp'))).toBe(false);
  });
});

describe('predict', () => {
  it('predict: one WAV through the run\'s recorded encoders matches the cached-feature path', async () => {
    const { predictOne } = await import('../../src/train/run.js');
    const { encodeWav16 } = await import('../../src/audio/audio.js');
    const { writeFileSync } = await import('node:fs');
    const { softmax } = await import('../../src/kernels/index.js');
    const features = await syntheticFeatures({ condition: 'acted', size: 64, cacheDir: tmp(), quiet: true });
    const run = tmp();
    await train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 2 }, { runDir: run, quiet: true, encoders: { kind: 'synthetic', condition: 'acted', size: 64 } });
    const u = syntheticCorpus({ condition: 'acted', size: 64, seed: 1234 })[7]!;
    const wavPath = join(run, 'u7.wav');
    writeFileSync(wavPath, encodeWav16(u.audio!, 16000));
    const p = await predictOne(run, wavPath, u.text);
    const total = Object.values(p.probabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(SYNTHETIC_LABELS as readonly string[]).toContain(p.label);
    const { crab } = loadBest(run);
    const item = features.items.find((i) => i.id === u.id)!;
    const ref = noGrad(() => softmax(crab.forward(makeBatch([item], features), false).logits));
    const r = await ref.toArray();
    SYNTHETIC_LABELS.forEach((l, i) => expect(Math.abs(p.probabilities[l]! - r[i]!)).toBeLessThan(0.02));
  });
});
