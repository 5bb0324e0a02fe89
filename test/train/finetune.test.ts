// End-to-end fine-tuning of Crab with its encoders on the synthetic corpus: the learning-rate
// groups (head lr, encoders lr/10), the frozen conv encoder, exact resume with the encoders'
// generators, and loading a fine-tuned run back for inference.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTHETIC_LABELS } from '../../src/data/synthetic.js';
import { syntheticEncoders, encodersFor, type Encoders } from '../../src/data/encoders.js';
import { InterruptedError, type TrainConfig } from '../../src/train/trainer.js';
import { trainEndToEnd } from '../../src/train/finetune.js';
import { loadRun, evaluateRun } from '../../src/train/run.js';
import type { Utterance } from '../../src/data/synthetic.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'crab-ft-'));
const SIZE = 48;
const CFG: Partial<TrainConfig> = {
  crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8, attentionDropout: 0.1, classifierDropout: 0.1 }, epochs: 2, batchSize: 8, lr: 1e-3, weightDecay: 0, seed: 5,
  // Every training-mode site of the encoders on (the tiny encoders have them off by default), so
  // exact resume is checked with dropout, LayerDrop and SpecAugment drawing.
  encoders: {
    wavlm: { hidden_dropout: 0.1, attention_dropout: 0.1, activation_dropout: 0.1, feat_proj_dropout: 0.1, layerdrop: 0.3, mask_time_prob: 0.1, mask_time_length: 2, mask_feature_prob: 0.1, mask_feature_length: 4 },
    roberta: { hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 },
  },
};
const spec = { kind: 'synthetic' as const, condition: 'acted' as const, size: SIZE };

function fresh(): { enc: Encoders; utts: Utterance[] } {
  const enc = encodersFor(spec, CFG.encoders);
  return { enc, utts: enc.utts! };
}

const stepLosses = (runDir: string): number[] =>
  readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.loss);

/** Largest |after − before| over the named tensors of a checkpoint against the initial weights. */
async function maxDelta(ckpt: string, init: Map<string, Float32Array>, match: RegExp): Promise<number> {
  const f = SafetensorsFile.open(join(ckpt, 'model.safetensors'));
  let worst = 0;
  let n = 0;
  for (const [name, before] of init) {
    if (!match.test(name)) continue;
    const after = f.float32(name);
    for (let i = 0; i < after.length; i++) worst = Math.max(worst, Math.abs(after[i]! - before[i]!));
    n++;
  }
  expect(n, `no tensor matches ${match}`).toBeGreaterThan(0);
  return worst;
}

describe('fine-tuning', () => {
  it('finetune: one AdamW step moves the head by lr, the encoders by lr/10 and the conv encoder not at all', async () => {
    const { enc, utts } = fresh();
    const init = new Map<string, Float32Array>();
    for (const [n, t] of enc.wavlm.namedParameters()) init.set(`wavlm.${n}`, (await t.toArray()) as Float32Array);
    for (const [n, t] of enc.roberta.namedParameters()) init.set(`roberta.${n}`, (await t.toArray()) as Float32Array);
    const dir = tmp();
    await expect(trainEndToEnd(utts, [...SYNTHETIC_LABELS], { ...CFG, layerWeightedSum: true }, { runDir: dir, quiet: true, stopAfterSteps: 1, encoders: spec }, enc)).rejects.toThrow(InterruptedError);
    const last = join(dir, 'last');
    // Adam's first step is −lr·g/(|g| + ε): every element with a gradient moves by lr (weight decay off).
    const lr = CFG.lr!;
    expect(await maxDelta(last, init, /^wavlm\.feature_extractor\./)).toBe(0);
    const encMove = Math.max(await maxDelta(last, init, /^wavlm\.encoder\./), await maxDelta(last, init, /^roberta\./));
    expect(encMove).toBeGreaterThan(0.99 * lr / 10);
    expect(encMove).toBeLessThan(1.01 * lr / 10);
    // The head starts from its own seed; its layer weights start at 0 and move by lr.
    const f = SafetensorsFile.open(join(last, 'model.safetensors'));
    const w = f.float32('crab.speech_layer_weights');
    expect(w.length).toBe(enc.wavlm.config.num_hidden_layers + 1);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * lr);
    expect(Math.max(...w.map(Math.abs))).toBeLessThan(1.01 * lr);
    expect(f.names().filter((n) => /^(wavlm|roberta|crab)\./.test(n)).length).toBe(f.names().length);
  });

  it('finetune resume: interrupt mid-epoch, resume, and get the same loss sequence as an uninterrupted run', async () => {
    const full = tmp();
    const a = fresh();
    await trainEndToEnd(a.utts, [...SYNTHETIC_LABELS], CFG, { runDir: full, quiet: true, encoders: spec }, a.enc);
    const cut = tmp();
    const b = fresh();
    await expect(trainEndToEnd(b.utts, [...SYNTHETIC_LABELS], CFG, { runDir: cut, quiet: true, stopAfterSteps: 3, encoders: spec }, b.enc)).rejects.toThrow(InterruptedError);
    const c = fresh();
    await trainEndToEnd(c.utts, [...SYNTHETIC_LABELS], CFG, { runDir: cut, quiet: true, resume: true, encoders: spec }, c.enc);
    const ref = stepLosses(full);
    expect(ref.length).toBeGreaterThan(4);
    expect(stepLosses(cut)).toEqual(ref);

    // The best checkpoint holds the fine-tuned encoders: loading it back reproduces the dev score
    // the run recorded (computed then through the in-memory model).
    const run = loadRun(full);
    const st = JSON.parse(readFileSync(join(full, 'best', 'state.json'), 'utf8'));
    const dev = await evaluateRun(run, a.utts.filter((u) => u.split === 'dev'));
    expect(dev.macroF1).toBeCloseTo(st.best.value, 6);
    const enc0 = syntheticEncoders('acted', SIZE).roberta.encoder.layer[0]!.attention.self.query.weight;
    const enc1 = run.encoders!.roberta.encoder.layer[0]!.attention.self.query.weight;
    expect([...(await enc1.toArray())]).not.toEqual([...(await enc0.toArray())]);
  });
});
