// A small real-layout corpus for tests: WAV files of the synthetic corpus listed in a manifest,
// and a RoBERTa folder from the fixture weights with a byte-level vocabulary.
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticCorpus, SYNTHETIC_LABELS } from '../src/data/synthetic.js';
import { encodeWav16 } from '../src/audio/audio.js';
import { bytesToUnicode } from '../src/model/tokenizer.js';

/** test/fixtures */
export const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fx = fixtures;

/** A RoBERTa folder: the fixture weights (vocab 300) with a byte-level vocabulary of 260 ids. */
export function tinyRobertaFolder(root: string): string {
  const rob = join(root, 'roberta');
  mkdirSync(rob);
  copyFileSync(join(fx, 'roberta', 'config.json'), join(rob, 'config.json'));
  copyFileSync(join(fx, 'roberta', 'model.safetensors'), join(rob, 'model.safetensors'));
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  bytesToUnicode().forEach((c, i) => (vocab[c] = 4 + i));
  writeFileSync(join(rob, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(rob, 'merges.txt'), '#version: 0.2\n');
  return rob;
}

/** WAV files of a small synthetic corpus under root/wav and root/manifest.csv listing them (plus `extra` rows). */
export function writeManifest(root: string, extra: string[] = [], size = 32): void {
  const rows = ['path,text,label,speaker,split'];
  mkdirSync(join(root, 'wav'));
  for (const u of syntheticCorpus({ condition: 'acted', size, seed: 3 })) {
    writeFileSync(join(root, 'wav', `${u.id}.wav`), encodeWav16(u.audio!, 16000));
    rows.push(`wav/${u.id}.wav,${u.text},${SYNTHETIC_LABELS[u.label]},${u.speaker},${u.split}`);
  }
  writeFileSync(join(root, 'manifest.csv'), [...rows, ...extra].join('\n'));
}

