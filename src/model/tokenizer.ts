/**
 * Byte-level BPE, as GPT-2 and RoBERTa use it: text → UTF-8 bytes mapped to printable
 * characters (`bytes_to_unicode`), split by the GPT-2 pre-tokenization regex, then each piece
 * merged by merge rank. Reads `vocab.json` + `merges.txt`, or `tokenizer.json`. Adds RoBERTa's
 * templates (`<s> A </s>`, `<s> A </s></s> B </s>`), truncation, padding, attention masks,
 * batches, and decoding.
 * @module
 */
import { filesOf, joinName, type ModelFiles } from './model_files.js';

/** GPT-2's byte → printable-character map (bytes that are not printable move to U+0100 and up). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map = new Array<string>(256);
  for (const b of bs) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCodePoint(256 + n++);
  }
  return map;
}

/** The GPT-2 / RoBERTa pre-tokenization pattern. */
export const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Encoding options. */
export interface EncodeOptions {
  /** Add `<s> … </s>` (default true). */
  addSpecialTokens?: boolean;
  /** Truncate each sequence so the whole fits in this many ids. */
  maxLength?: number;
}

/** A padded batch. */
export interface BatchEncoding {
  /** [B, T] ids, row-major. */
  ids: Int32Array;
  /** [B, T], 1 = token, 0 = padding. */
  attentionMask: Int32Array;
  /** Unpadded length of each row. */
  lengths: number[];
  shape: [number, number];
}

/** Byte-level BPE tokenizer with RoBERTa's special tokens and templates. */
export class ByteLevelBPE {
  private readonly byteMap = bytesToUnicode();
  private readonly byteInv = new Map(this.byteMap.map((c, b) => [c, b]));
  private readonly ranks = new Map<string, number>();
  private readonly inv: string[] = [];
  private readonly cache = new Map<string, number[]>();
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly unk: number;

  constructor(readonly vocab: Map<string, number>, merges: Array<[string, string]>, specials: { bos?: string; eos?: string; pad?: string; unk?: string } = {}) {
    merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
    for (const [tok, id] of vocab) this.inv[id] = tok;
    const id = (t: string, fallback: number): number => vocab.get(t) ?? fallback;
    this.bos = id(specials.bos ?? '<s>', -1);
    this.eos = id(specials.eos ?? '</s>', -1);
    this.pad = id(specials.pad ?? '<pad>', -1);
    this.unk = id(specials.unk ?? '<unk>', -1);
  }

  /** Loads `vocab.json` + `merges.txt`, or `tokenizer.json`, from a model folder (Node) or given files. */
  static fromFolder(dir: string | ModelFiles): ByteLevelBPE {
    const files = filesOf(dir);
    if (files.has('vocab.json') && files.has('merges.txt')) {
      return ByteLevelBPE.fromTexts(files.text('vocab.json'), files.text('merges.txt'), joinName(files.where, 'vocab.json'), joinName(files.where, 'merges.txt'));
    }
    if (files.has('tokenizer.json')) {
      const tj = joinName(files.where, 'tokenizer.json');
      const j = JSON.parse(files.text('tokenizer.json')) as { model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]> } };
      if (j.model?.type !== 'BPE' || !j.model.vocab || !j.model.merges) throw new Error(`${tj}: not a byte-level BPE tokenizer (model.type ${j.model?.type})`);
      const merges = j.model.merges.map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m));
      return new ByteLevelBPE(new Map(Object.entries(j.model.vocab)), merges);
    }
    throw new Error(`${files.where}: no tokenizer files (vocab.json + merges.txt, or tokenizer.json)`);
  }

  /** Loads a vocabulary JSON file (token → id) and a merges file (`#version` line skipped) by path (Node). */
  static fromFiles(vocabPath: string, mergesPath: string): ByteLevelBPE {
    const cut = (p: string): [string, string] => {
      const i = p.lastIndexOf('/');
      return i < 0 ? ['.', p] : [p.slice(0, i) || '/', p.slice(i + 1)];
    };
    const [vd, vn] = cut(vocabPath);
    const [md, mn] = cut(mergesPath);
    return ByteLevelBPE.fromTexts(filesOf(vd).text(vn), filesOf(md).text(mn), vocabPath, mergesPath);
  }

  /** Parses a vocabulary JSON text and a merges text; the names appear in errors. */
  static fromTexts(vocabText: string, mergesText: string, vocabName = 'vocab.json', mergesName = 'merges.txt'): ByteLevelBPE {
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(vocabText);
    } catch (e) {
      throw new Error(`${vocabName}: not a JSON vocabulary (${(e as Error).message})`);
    }
    const merges: Array<[string, string]> = [];
    mergesText.split('\n').forEach((line, i) => {
      if (i === 0 && line.startsWith('#version')) return;
      if (!line.trim()) return;
      const parts = line.split(' ');
      if (parts.length !== 2) throw new Error(`${mergesName}:${i + 1}: expected two symbols separated by one space, got "${line}"`);
      merges.push(parts as [string, string]);
    });
    return new ByteLevelBPE(new Map(Object.entries(vocab)), merges);
  }

  /** Merges one pre-tokenized piece (already byte-mapped) into vocabulary ids. */
  private bpe(piece: string): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let word = [...piece];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge every occurrence of the best pair, left to right.
      const a = word[best]!;
      const b = word[best + 1]!;
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(word[i]!);
      }
      word = next;
    }
    const ids = word.map((t) => {
      const id = this.vocab.get(t);
      if (id === undefined) {
        if (this.unk < 0) throw new Error(`tokenizer: symbol "${t}" is not in the vocabulary and there is no <unk>`);
        return this.unk;
      }
      return id;
    });
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }

  /** Token ids of `text` without special tokens. */
  tokenize(text: string): number[] {
    const out: number[] = [];
    const enc = new TextEncoder();
    for (const m of text.matchAll(PRETOKENIZE)) {
      let mapped = '';
      for (const byte of enc.encode(m[0])) mapped += this.byteMap[byte];
      out.push(...this.bpe(mapped));
    }
    return out;
  }

  /** `<s> A </s>` or `<s> A </s></s> B </s>`, truncated (longest first) to `maxLength`. */
  encode(a: string, b?: string, o: EncodeOptions = {}): number[] {
    const special = o.addSpecialTokens ?? true;
    let ta = this.tokenize(a);
    let tb = b === undefined ? null : this.tokenize(b);
    if (o.maxLength !== undefined) {
      const extra = special ? (tb ? 4 : 2) : 0;
      const budget = o.maxLength - extra;
      if (budget < 0) throw new Error(`tokenizer: maxLength ${o.maxLength} leaves no room for the ${extra} special tokens`);
      while (ta.length + (tb?.length ?? 0) > budget) {
        if (tb && tb.length > ta.length) tb = tb.slice(0, -1);
        else ta = ta.slice(0, -1);
      }
    }
    if (!special) return tb ? [...ta, ...tb] : ta;
    if (this.bos < 0 || this.eos < 0) throw new Error('tokenizer: the vocabulary has no <s> / </s> for the templates; pass addSpecialTokens: false');
    return tb ? [this.bos, ...ta, this.eos, this.eos, ...tb, this.eos] : [this.bos, ...ta, this.eos];
  }

  /** Encodes a batch and pads it to the longest row (or to `padTo`). */
  encodeBatch(texts: string[], o: EncodeOptions & { padTo?: number } = {}): BatchEncoding {
    const rows = texts.map((t) => this.encode(t, undefined, o));
    const T = Math.max(o.padTo ?? 0, ...rows.map((r) => r.length), 1);
    const pad = this.pad >= 0 ? this.pad : 0;
    const ids = new Int32Array(rows.length * T).fill(pad);
    const mask = new Int32Array(rows.length * T);
    rows.forEach((r, i) => {
      ids.set(r, i * T);
      mask.fill(1, i * T, i * T + r.length);
    });
    return { ids, attentionMask: mask, lengths: rows.map((r) => r.length), shape: [rows.length, T] };
  }

  /** Text of ids (special tokens dropped unless `keepSpecial`). */
  decode(ids: ArrayLike<number>, keepSpecial = false): string {
    const specials = new Set([this.bos, this.eos, this.pad]);
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!keepSpecial && specials.has(id)) continue;
      const tok = this.inv[id];
      if (tok === undefined) throw new Error(`tokenizer: id ${id} is not in the vocabulary`);
      for (const ch of tok) {
        const b = this.byteInv.get(ch);
        if (b === undefined) bytes.push(...new TextEncoder().encode(ch));
        else bytes.push(b);
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
}
