// Compressed audio without system tools (ffmpeg is not installed where these run): FLAC through
// our decoder must give the WAV source's samples exactly (lossless); MP3 (mpg123) and Ogg Opus
// (libopus) must give the source back aligned, at its length, within a lossy codec's error. The
// files come from tools/make-audio-fixtures.mjs (flac, lame and opusenc on WAV sources).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWav, readAudio } from '../../src/audio/audio.js';
import { decodeFlac } from '../../src/audio/flac.js';
import { oggPackets, sniff } from '../../src/audio/decode.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'audio');
const wav = (f: string) => parseWav(readFileSync(join(dir, f)), f);

/** Signal-to-error ratio in dB of `y` against `x` over x's length. */
function snr(x: Float32Array, y: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]! ** 2;
    e += (x[i]! - y[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

describe('audio decoders', () => {
  for (const [flac, src, what] of [
    ['mono16k16.flac', 'mono16k16.wav', '16 kHz mono 16-bit, flac -8: LPC, constant and verbatim subframes'],
    ['mono16k16-fixed.flac', 'mono16k16.wav', 'the same at flac -0: fixed predictors'],
    ['stereo44k24.flac', 'stereo44k24.wav', '44.1 kHz stereo 24-bit: stereo decorrelation'],
    ['wasted48k24.flac', 'wasted48k24.wav', '48 kHz 24-bit with 4 wasted bits'],
  ] as const) {
    it(`flac: ${what} — exactly the WAV source's samples`, () => {
      const ref = wav(src);
      const got = decodeFlac(readFileSync(join(dir, flac)), flac);
      expect(got.sampleRate).toBe(ref.sampleRate);
      expect(got.samples.length).toBe(ref.samples.length);
      let worst = 0;
      for (let i = 0; i < ref.samples.length; i++) worst = Math.max(worst, Math.abs(got.samples[i]! - ref.samples[i]!));
      expect(worst).toBe(0);
    });
  }

  it('flac: the test files cover every subframe kind, wasted bits and the stereo codings', () => {
    const seen: Record<string, number> = {};
    for (const f of ['mono16k16.flac', 'mono16k16-fixed.flac', 'stereo44k24.flac', 'wasted48k24.flac']) {
      for (const [k, n] of Object.entries(decodeFlac(readFileSync(join(dir, f)), f).coding)) seen[k] = (seen[k] ?? 0) + n;
    }
    for (const k of ['constant', 'verbatim', 'fixed', 'lpc', 'wasted', 'independent']) expect(seen[k], k).toBeGreaterThan(0);
    expect((seen['left-side'] ?? 0) + (seen['side-right'] ?? 0) + (seen['mid-side'] ?? 0)).toBeGreaterThan(0);
  });

  it('flac: a truncated or corrupt file is an error naming the file', () => {
    const b = readFileSync(join(dir, 'mono16k16.flac'));
    expect(() => decodeFlac(b.subarray(0, 40), 'x.flac')).toThrow(/x\.flac: not a readable FLAC file: metadata block .* runs past the end/);
    expect(() => decodeFlac(b.subarray(0, b.length - 3000), 'x.flac')).toThrow(/x\.flac: not a readable FLAC file: unexpected end of data/);
    const bad = Buffer.from(b);
    bad[b.length - 2000] ^= 0x10; // one bit inside a frame
    expect(() => decodeFlac(bad, 'y.flac')).toThrow(/y\.flac: not a readable FLAC file: the frame at byte \d+ fails its CRC-16/);
  });

  it('mp3 (mpg123): the 44.1 kHz source back, gapless-aligned, at its length, SNR > 20 dB', async () => {
    const ref = wav('tone44k16.wav');
    const got = await readAudio(join(dir, 'tone44k16.mp3'));
    expect(got.sampleRate).toBe(44100);
    expect(Math.abs(got.samples.length - ref.samples.length)).toBeLessThanOrEqual(1152);
    expect(snr(ref.samples.subarray(0, Math.min(ref.samples.length, got.samples.length)), got.samples)).toBeGreaterThan(20);
  });

  it('ogg opus (libopus): pre-skip and end trimmed by the granule position: the source at its length, SNR > 20 dB', async () => {
    const ref = wav('tone48k16.wav');
    const got = await readAudio(join(dir, 'tone48k16.opus'));
    expect(got.sampleRate).toBe(48000);
    expect(got.samples.length).toBe(ref.samples.length);
    expect(snr(ref.samples, got.samples)).toBeGreaterThan(20);
  });

  it('ogg: packets are joined across lacing; formats are told by their bytes, not their names', () => {
    const { packets } = oggPackets(readFileSync(join(dir, 'tone48k16.opus')), 'o');
    expect(new TextDecoder().decode(packets[0]!.subarray(0, 8))).toBe('OpusHead');
    expect(new TextDecoder().decode(packets[1]!.subarray(0, 8))).toBe('OpusTags');
    expect(sniff(readFileSync(join(dir, 'tone44k16.mp3')))).toBe('mp3');
    expect(sniff(readFileSync(join(dir, 'stereo44k24.flac')))).toBe('flac');
    expect(sniff(Buffer.from('....ftypisom'))).toBe(null); // MP4: ffmpeg's
  });
});
