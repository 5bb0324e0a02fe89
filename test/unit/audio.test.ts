// Audio in: WAV encodings and channel mixing, the band-limited resampler, hostile headers.
import { describe, it, expect } from 'vitest';
import { parseWav, resample, encodeWav16, zNormalize } from '../../src/audio/audio.js';

/** A WAV file's bytes with the given format, channels and raw sample writer. */
function wav(format: number, channels: number, rate: number, bits: number, frames: number, write: (b: Buffer, o: number, v: number) => void, value: (i: number, c: number) => number): Buffer {
  const width = bits / 8;
  const data = Buffer.alloc(frames * channels * width);
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) write(data, (i * channels + c) * width, value(i, c));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVEfmt ', 8); h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20); h.writeUInt16LE(channels, 22); h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * channels * width, 28);
  h.writeUInt16LE(channels * width, 32); h.writeUInt16LE(bits, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** RMS of the middle half of x. */
function midRms(x: Float32Array): number {
  const a = Math.floor(x.length / 4);
  const b = Math.floor((3 * x.length) / 4);
  let s = 0;
  for (let i = a; i < b; i++) s += x[i]! ** 2;
  return Math.sqrt(s / (b - a));
}

describe('audio', () => {
  it('audio: PCM 8/16/24/32-bit and float32, multi-channel mixed to mono', () => {
    const v = (i: number, c: number): number => (c === 0 ? 0.5 : -0.25) * ((i % 2) * 2 - 1);
    const cases: Array<[number, number, (b: Buffer, o: number, x: number) => void, number]> = [
      [1, 8, (b, o, x) => b.writeUInt8(Math.round(x * 128 + 128), o), 1 / 128],
      [1, 16, (b, o, x) => b.writeInt16LE(Math.round(x * 32768), o), 1 / 32768],
      [1, 24, (b, o, x) => b.writeIntLE(Math.round(x * 8388608), o, 3), 1e-6],
      [1, 32, (b, o, x) => b.writeInt32LE(Math.round(x * 2147483647), o), 1e-6],
      [3, 32, (b, o, x) => b.writeFloatLE(x, o), 1e-7],
    ];
    for (const [format, bits, write, tol] of cases) {
      const a = parseWav(wav(format, 2, 22050, bits, 10, write, v), `f${format}b${bits}`);
      expect(a.sampleRate).toBe(22050);
      expect(a.samples.length).toBe(10);
      for (let i = 0; i < 10; i++) expect(Math.abs(a.samples[i]! - (v(i, 0) + v(i, 1)) / 2)).toBeLessThanOrEqual(tol);
    }
    const round = parseWav(encodeWav16(new Float32Array([0, 0.5, -0.5]), 16000));
    expect([...round.samples].map((x) => Math.round(x * 1000) / 1000)).toEqual([0, 0.5, -0.5]);
  });
  it('audio: resampling 44.1 → 16 kHz keeps in-band tones within 0.1 dB and attenuates out-of-band ones', () => {
    const tone = (f: number): Float32Array => Float32Array.from({ length: 44100 }, (_, i) => Math.sin((2 * Math.PI * f * i) / 44100));
    for (const f of [100, 440, 1000, 3000, 5000, 7000]) {
      const y = resample(tone(f), 44100, 16000);
      expect(y.length).toBe(16000);
      const db = 20 * Math.log10(midRms(y) / Math.SQRT1_2);
      expect(Math.abs(db), `${f} Hz: ${db.toFixed(4)} dB`).toBeLessThan(0.1);
    }
    for (const f of [9000, 12000, 20000]) {
      const db = 20 * Math.log10(midRms(resample(tone(f), 44100, 16000)) / Math.SQRT1_2);
      expect(db, `${f} Hz`).toBeLessThan(-60);
    }
    // A sweep through the band keeps its envelope: windowed RMS stays within 0.1 dB.
    const n = 2 * 44100;
    const sweep = Float32Array.from({ length: n }, (_, i) => {
      const t = i / 44100;
      return Math.sin(2 * Math.PI * (100 * t + ((7000 - 100) / 4) * t * t));
    });
    const y = resample(sweep, 44100, 16000);
    for (let w = 4000; w + 1600 < y.length - 4000; w += 1600) {
      const db = 20 * Math.log10(midRms(y.subarray(w - 800, w + 2400)) / Math.SQRT1_2);
      expect(Math.abs(db), `sweep window at ${w}: ${db.toFixed(4)} dB`).toBeLessThan(0.1);
    }
  });
  it('audio: hostile headers give errors that name the file', () => {
    const good = wav(1, 1, 16000, 16, 100, (b, o, x) => b.writeInt16LE(x, o), () => 0);
    expect(() => parseWav(good.subarray(0, 30), 'cut.wav')).toThrow(/cut\.wav: not a readable WAV file: chunk "fmt " claims 16 bytes but only 10 remain/);
    const absurd = Buffer.from(good);
    absurd.writeUInt32LE(0x7ffffff0, 16);
    expect(() => parseWav(absurd, 'absurd.wav')).toThrow(/absurd\.wav: .*claims 2147483632 bytes/);
    const zero = Buffer.from(good);
    zero.writeUInt16LE(0, 22);
    expect(() => parseWav(zero, 'zero.wav')).toThrow(/zero\.wav: .*0 channels/);
    expect(() => parseWav(Buffer.from('hello world, not a wav'), 'text.wav')).toThrow(/no RIFF\/WAVE header/);
    const alaw = Buffer.from(good);
    alaw.writeUInt16LE(6, 20);
    expect(() => parseWav(alaw, 'alaw.wav')).toThrow(/unsupported encoding \(format 6/);
  });
  it('audio: per-utterance and global normalization', () => {
    const z = zNormalize(Float32Array.from([1, 2, 3, 4]));
    expect(z.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
    expect(Math.sqrt(z.reduce((a, b) => a + b * b, 0) / 4)).toBeCloseTo(1, 5);
    expect([...zNormalize(Float32Array.from([3]), { mean: 1, std: 2 })]).toEqual([1]);
  });
});
