// A real-corpus path end to end: a manifest of WAV files (one corrupt) → frozen WavLM and RoBERTa
// from Hugging Face-style folders (with a byte-level tokenizer) → cached features → training.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCorpus, SYNTHETIC_LABELS } from '../src/train/synthetic.js';
import { encodeWav16 } from '../src/audio/audio.js';
import { loadManifest } from '../src/train/datasets.js';
import { corpusFeatures } from '../src/train/corpus.js';
import { train } from '../src/train/trainer.js';
import { bytesToUnicode } from '../src/model/tokenizer.js';

const fx = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('corpus pipeline', () => {
  it('corpus: manifest of WAV files → features from HF-style folders → training; the corrupt file is skipped and reported', async () => {
    const root = mkdtempSync(join(tmpdir(), 'corpus-e2e-'));
    const utts = syntheticCorpus({ condition: 'acted', size: 32, seed: 3 });
    const rows = ['path,text,label,speaker,split'];
    mkdirSync(join(root, 'wav'));
    for (const u of utts) {
      writeFileSync(join(root, 'wav', `${u.id}.wav`), encodeWav16(u.audio!, 16000));
      rows.push(`wav/${u.id}.wav,${u.text},${SYNTHETIC_LABELS[u.label]},${u.speaker},${u.split}`);
    }
    writeFileSync(join(root, 'wav', 'broken.wav'), Buffer.from('RIFF....WAVEdata'));
    rows.push('wav/broken.wav,hello,sad,spk00,train');
    writeFileSync(join(root, 'manifest.csv'), rows.join('\n'));
    // A RoBERTa folder: the fixture weights (vocab 300) with a byte-level vocabulary of 260 ids.
    const rob = join(root, 'roberta');
    mkdirSync(rob);
    copyFileSync(join(fx, 'roberta', 'config.json'), join(rob, 'config.json'));
    copyFileSync(join(fx, 'roberta', 'model.safetensors'), join(rob, 'model.safetensors'));
    const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
    bytesToUnicode().forEach((c, i) => (vocab[c] = 4 + i));
    writeFileSync(join(rob, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(join(rob, 'merges.txt'), '#version: 0.2\n');
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
