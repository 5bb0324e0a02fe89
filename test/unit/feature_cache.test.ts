// The shard of an utterance must never change across machines, runs or versions (shards made on
// different machines are joined into one cache): SHA-256 of the id, first 32 bits, mod N.
import { describe, it, expect } from 'vitest';
import { shardOf, parseShard, shardName } from '../../src/data/feature_cache.js';

describe('feature cache shards', () => {
  it('shardOf: the first 32 bits of sha256(id) mod N (expected values from coreutils sha256sum)', () => {
    // printf %s ID | sha256sum → 50d6310e…, df22bb6e…, 69976810…
    expect([shardOf('Ses01F_impro01_F000', 8), shardOf('Ses01F_impro01_F000', 3)]).toEqual([0x50d6310e % 8, 0x50d6310e % 3]);
    expect([shardOf('MSP-PODCAST_0001_0008', 8), shardOf('MSP-PODCAST_0001_0008', 3)]).toEqual([0xdf22bb6e % 8, 0xdf22bb6e % 3]);
    expect([shardOf('dia0_utt0', 8), shardOf('dia0_utt0', 1)]).toEqual([0x69976810 % 8, 0]);
  });

  it('shardOf: 20,000 ids spread over 8 shards within 6% of even', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 20000; i++) counts[shardOf(`utt${i}`, 8)]!++;
    for (const c of counts) expect(Math.abs(c - 2500)).toBeLessThan(150);
  });

  it('parseShard: K/N counted from 0; anything else is refused with the reason', () => {
    expect(parseShard('0/8')).toEqual({ k: 0, n: 8 });
    expect(parseShard(' 7/8 ')).toEqual({ k: 7, n: 8 });
    expect(() => parseShard('8/8')).toThrow(/K must be below N \(shards are 0 … 7\)/);
    expect(() => parseShard('1/0')).toThrow(/N must be at least 1/);
    expect(() => parseShard('3')).toThrow(/is not K\/N/);
    expect(() => parseShard('-1/4')).toThrow(/is not K\/N/);
    expect(shardName(3, 12)).toBe('shard-0003-of-0012');
  });
});
