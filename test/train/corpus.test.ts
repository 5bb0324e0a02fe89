// A real-corpus path end to end: a manifest of WAV files (one corrupt) → frozen WavLM and RoBERTa
// from Hugging Face-style folders (with a byte-level tokenizer) → cached features → training.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticCorpus, SYNTHETIC_LABELS } from '../../src/data/synthetic.js';
import { encodeWav16 } from '../../src/audio/audio.js';
import { loadManifest } from '../../src/data/corpora.js';
import { corpusFeatures } from '../../src/data/feature_cache.js';
import { train } from '../../src/train/trainer.js';
import { tinyRobertaFolder, writeManifest, fixtures as fx } from '../corpus-fixture.js';

describe('corpus pipeline', () => {
  it('corpus: manifest of WAV files → features from HF-style folders → training; the corrupt file is skipped and reported', async () => {
    const root = mkdtempSync(join(tmpdir(), 'corpus-e2e-'));
    writeManifest(root, ['wav/broken.wav,hello,sad,spk00,train']);
    writeFileSync(join(root, 'wav', 'broken.wav'), Buffer.from('RIFF....WAVEdata'));
    const rob = tinyRobertaFolder(root);
    const ds = loadManifest(join(root, 'manifest.csv'), { labels: [...SYNTHETIC_LABELS] });
    const { features, skipped } = await corpusFeatures(ds, { wavlm: join(fx, 'wavlm', 'large'), roberta: rob, cacheDir: join(root, 'cache'), quiet: true });
    expect(skipped.map((s) => s.id)).toEqual(['broken.wav#34']);
    expect(skipped[0]!.reason).toMatch(/broken\.wav/);
    expect(features.items).toHaveLength(32);
    expect(features.speechDim).toBe(48);
    const again = await corpusFeatures(ds, { wavlm: join(fx, 'wavlm', 'large'), roberta: rob, cacheDir: join(root, 'cache'), quiet: true });
    expect(again.features.items[5]!.speech).toEqual(features.items[5]!.speech); // from the cache
    const st = await train(features, [...SYNTHETIC_LABELS], { crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, epochs: 2, batchSize: 8 }, { runDir: join(root, 'run'), quiet: true });
    expect(st.history).toHaveLength(2);
    expect(Number.isFinite(st.history[1]!.trainLoss)).toBe(true);
  });
});

describe('iemocap cross-validation', () => {
  it('iemocap --fold all: each fold tests on its own session, from one shared feature cache', async () => {
    const { crossValidateIemocap } = await import('../../src/train/cross_validate.js');
    const root = mkdtempSync(join(tmpdir(), 'iemo-cv-'));
    const utts = syntheticCorpus({ condition: 'acted', size: 64, seed: 9 });
    const byLabel = [0, 1, 2, 3].map((l) => utts.filter((u) => u.label === l));
    const codes = ['neu', 'ang', 'sad', 'hap'];
    for (let n = 1; n <= 5; n++) {
      const dialog = `Ses0${n}F_impro01`;
      const lines: string[] = [];
      const tr: string[] = [];
      for (let i = 0; i < 8; i++) {
        const u = byLabel[i % 4]![(n - 1) * 2 + Math.floor(i / 4)]!; // every session has every class
        const id = `${dialog}_${i % 2 ? 'M' : 'F'}00${i}`;
        lines.push(`[1.0000 - 2.0000]\t${id}\t${codes[u.label]}\t[2.5000, 2.5000, 2.5000]`);
        tr.push(`${id} [001.0000-002.0000]: ${u.text}`);
        mkdirSync(join(root, `Session${n}`, 'sentences', 'wav', dialog), { recursive: true });
        writeFileSync(join(root, `Session${n}`, 'sentences', 'wav', dialog, `${id}.wav`), encodeWav16(u.audio!, 16000));
      }
      mkdirSync(join(root, `Session${n}`, 'dialog', 'EmoEvaluation'), { recursive: true });
      mkdirSync(join(root, `Session${n}`, 'dialog', 'transcriptions'), { recursive: true });
      writeFileSync(join(root, `Session${n}`, 'dialog', 'EmoEvaluation', `${dialog}.txt`), lines.join('\n'));
      writeFileSync(join(root, `Session${n}`, 'dialog', 'transcriptions', `${dialog}.txt`), tr.join('\n'));
    }
    const rob = tinyRobertaFolder(root);
    const cache = join(root, 'cache');
    const rows = await crossValidateIemocap(root, join(root, 'runs'), { crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, epochs: 1, batchSize: 8 },
      { wavlm: join(fx, 'wavlm', 'large'), roberta: rob, cacheDir: cache, maxSeconds: 12, normalize: false }, [1, 2], true);
    expect(rows.map((r) => r.fold)).toEqual([1, 2]);
    for (const r of rows) expect(r.wa).toBeGreaterThanOrEqual(0);
    const { readdirSync } = await import('node:fs');
    const caches = readdirSync(cache);
    expect(caches).toHaveLength(1); // one cache for both folds
    expect(readdirSync(join(cache, caches[0]!)).sort()).toEqual(['plan.json', 'shard-0000-of-0001.safetensors']);
  });
});

describe('fine-tuning on a real-corpus layout', () => {
  it('finetune: WAV files read per batch, Hugging Face folders as encoders, layer-weighted sum; an unreadable file stops with its id', async () => {
    const { trainEndToEnd } = await import('../../src/train/finetune.js');
    const { encodersFor } = await import('../../src/data/encoders.js');
    const { loadRun, evaluateRun } = await import('../../src/train/run.js');
    const root = mkdtempSync(join(tmpdir(), 'corpus-ft-'));
    writeManifest(root);
    const rob = tinyRobertaFolder(root);
    const spec = { kind: 'hf' as const, wavlm: join(fx, 'wavlm', 'large'), roberta: rob, maxSeconds: 12, normalize: true };
    const ds = loadManifest(join(root, 'manifest.csv'), { labels: [...SYNTHETIC_LABELS] });
    expect(ds.utterances.every((u) => !u.audio && u.audioPath)).toBe(true);
    const cfg = { crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, epochs: 2, batchSize: 8, layerWeightedSum: true };
    const st = await trainEndToEnd(ds.utterances, [...SYNTHETIC_LABELS], cfg, { runDir: join(root, 'run'), quiet: true, encoders: spec }, encodersFor(spec));
    expect(st.speechLayers).toBe(3); // the fixture WavLM-large: 2 layers + the input of layer 0
    expect(st.textLayers).toBe(3);
    const run = loadRun(join(root, 'run'));
    const dev = await evaluateRun(run, ds.utterances.filter((u) => u.split === 'dev'));
    expect(dev.macroF1).toBeCloseTo(st.best!.value, 6);

    writeFileSync(join(root, 'wav', 'broken.wav'), Buffer.from('RIFF....WAVEdata'));
    const broken = { ...ds.utterances[0]!, id: 'broken-1', audioPath: join(root, 'wav', 'broken.wav') };
    await expect(trainEndToEnd([broken, ...ds.utterances], [...SYNTHETIC_LABELS], { ...cfg, epochs: 1 }, { runDir: join(root, 'run2'), quiet: true, encoders: spec }, encodersFor(spec)))
      .rejects.toThrow(/utterance broken-1: .*broken\.wav.*crab data check/);
  });
});

describe('feature cache batches', () => {
  it('features: with a group-norm WavLM (base) each utterance is encoded alone, so its cached features equal its own forward pass', async () => {
    const { encoderStates } = await import('../../src/model/crab_encoders.js');
    const { loadWavLM, loadRoberta } = await import('../../src/model/pretrained.js');
    const { loadForModel } = await import('../../src/audio/audio.js');
    const { noGrad } = await import('../../src/tensor/tensor.js');
    const root = mkdtempSync(join(tmpdir(), 'corpus-gn-'));
    writeManifest(root, [], 8);
    const rob = tinyRobertaFolder(root);
    const ds = loadManifest(join(root, 'manifest.csv'), { labels: [...SYNTHETIC_LABELS] });
    const { features } = await corpusFeatures(ds, { wavlm: join(fx, 'wavlm', 'base'), roberta: rob, cacheDir: join(root, 'cache'), quiet: true });
    const wavlm = loadWavLM(join(fx, 'wavlm', 'base'));
    const { model: roberta, tokenizer } = loadRoberta(rob);
    wavlm.eval();
    roberta.eval();
    const lengths = new Set<number>();
    for (const [i, u] of ds.utterances.entries()) {
      const audio = await loadForModel(u.audioPath!, { maxSeconds: 12 });
      lengths.add(audio.length);
      const x = noGrad(() => encoderStates(wavlm, roberta, [{ audio, ids: tokenizer.encode(u.text) }]));
      expect(features.items[i]!.id).toBe(u.id);
      expect(features.items[i]!.speech).toEqual(await x.speech.toArray());
    }
    expect(lengths.size).toBeGreaterThan(1); // batches of four would have padded
  });
});
