// Audio in: WAV encodings and channel mixing, the band-limited resampler, hostile headers.
import { describe, it, expect } from 'vitest';
import { parseWav, resample, resampleDirect, encodeWav16, zNormalize } from '../../src/audio/audio.js';

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
  it('audio: the polyphase resampler equals the direct sum, keeps 8/22.05/44.1/48 kHz tones flat and rejects what lies above 8 kHz', () => {
    /** Amplitude (dB re a unit sine) of frequency f in the middle half of y, by projection on sin and cos (float64). */
    const toneDb = (y: Float32Array, f: number, sr: number): number => {
      const a = Math.floor(y.length / 4);
      const b = Math.floor((3 * y.length) / 4);
      let c = 0;
      let s2 = 0;
      for (let i = a; i < b; i++) {
        c += y[i]! * Math.cos((2 * Math.PI * f * i) / sr);
        s2 += y[i]! * Math.sin((2 * Math.PI * f * i) / sr);
      }
      return 20 * Math.log10((2 * Math.hypot(c, s2)) / (b - a));
    };
    for (const from of [8000, 22050, 44100, 48000]) {
      const tone = (f: number): Float32Array => Float32Array.from({ length: from }, (_, i) => Math.sin((2 * Math.PI * f * i) / from));
      const mix = Float32Array.from({ length: from / 2 }, (_, i) => 0.4 * Math.sin(i * 0.3) + 0.3 * Math.sin(i * 1.7) + 0.2 * Math.sin(i * 2.9));
      const fast = resample(mix, from, 16000);
      const direct = resampleDirect(mix, from, 16000);
      expect(fast.length).toBe(direct.length);
      let md = 0;
      for (let i = 0; i < fast.length; i++) md = Math.max(md, Math.abs(fast[i]! - direct[i]!));
      expect(md, `${from} Hz: polyphase vs direct`).toBeLessThan(1e-6);
      // Passband: up to 87.5% of the lower Nyquist frequency (7 of 8 kHz, as above), within 0.1 dB.
      const top = 0.875 * Math.min(from, 16000) / 2;
      for (const f of [100, 1000, 0.5 * top, top]) {
        const db = toneDb(resample(tone(f), from, 16000), f, 16000);
        expect(Math.abs(db), `${from} Hz input, ${f} Hz tone: ${db.toFixed(4)} dB`).toBeLessThan(0.1);
      }
      if (from > 16000) {
        // Stopband: a tone above the output's Nyquist frequency must not fold back into the band.
        for (const f of [8800, 10000, 0.45 * from]) {
          const y = resample(tone(f), from, 16000);
          const alias = Math.abs(f - 16000 * Math.round(f / 16000)); // where it would fold to
          expect(toneDb(y, alias, 16000), `${from} Hz input, ${f} Hz tone folding to ${alias} Hz`).toBeLessThan(-60);
        }
      } else {
        // Upsampling 8 → 16 kHz: the image of a 1 kHz tone at 7 kHz is rejected.
        expect(toneDb(resample(tone(1000), from, 16000), 7000, 16000)).toBeLessThan(-60);
      }
    }
  });
  it('audio: RIFX (big-endian) and WAVE_FORMAT_EXTENSIBLE files are read; other encodings are refused by name; a short data chunk is read with a warning', () => {
    const v = [0.5, -0.25, 0.125, -1];
    // RIFX: the same header and samples, big-endian.
    const le = wav(1, 1, 16000, 16, 4, (b, o, x) => b.writeInt16LE(Math.round(x * 32767), o), (i) => v[i]!);
    const rifx = Buffer.from(le);
    rifx.write('RIFX', 0);
    for (const [o, n] of [[4, 4], [16, 4], [20, 2], [22, 2], [24, 4], [28, 4], [32, 2], [34, 2], [40, 4]] as const) {
      if (n === 4) rifx.writeUInt32BE(le.readUInt32LE(o), o);
      else rifx.writeUInt16BE(le.readUInt16LE(o), o);
    }
    for (let i = 0; i < 4; i++) rifx.writeInt16BE(le.readInt16LE(44 + 2 * i), 44 + 2 * i);
    expect([...parseWav(rifx, 'be.wav').samples].map((x) => Math.round(x * 1000) / 1000)).toEqual([0.5, -0.25, 0.125, -1]);
    // WAVE_FORMAT_EXTENSIBLE: a 40-byte fmt chunk whose sub-format GUID starts with the format code.
    const ext = (sub: number, bits: number, write: (b: Buffer, o: number, x: number) => void): Buffer => {
      const width = bits / 8;
      const data = Buffer.alloc(4 * width);
      v.forEach((x, i) => write(data, i * width, x));
      const h = Buffer.alloc(68);
      h.write('RIFF', 0); h.writeUInt32LE(60 + data.length, 4); h.write('WAVEfmt ', 8); h.writeUInt32LE(40, 16);
      h.writeUInt16LE(0xfffe, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(48000, 24); h.writeUInt32LE(48000 * width, 28);
      h.writeUInt16LE(width, 32); h.writeUInt16LE(bits, 34); h.writeUInt16LE(22, 36); h.writeUInt16LE(bits, 38); h.writeUInt32LE(4, 40);
      h.writeUInt16LE(sub, 44); h.write('\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71', 46, 'latin1');
      h.write('data', 60); h.writeUInt32LE(data.length, 64);
      return Buffer.concat([h, data]);
    };
    expect([...parseWav(ext(1, 24, (b, o, x) => b.writeIntLE(Math.round(x * 8388607), o, 3)), 'ext24.wav').samples].map((x) => Math.round(x * 1000) / 1000)).toEqual(v);
    expect([...parseWav(ext(3, 32, (b, o, x) => b.writeFloatLE(x, o)), 'extf.wav').samples]).toEqual(v);
    expect(() => parseWav(ext(6, 8, (b, o) => b.writeUInt8(0, o)), 'alaw-ext.wav')).toThrow(/alaw-ext\.wav: .*unsupported encoding: A-law \(6, 8 bits\)/);
    // A data chunk that claims more bytes than the file holds: what is there, and a warning naming the file.
    const cut = le.subarray(0, 44 + 6);
    const a = parseWav(cut, 'cut-data.wav');
    expect(a.samples.length).toBe(3);
    expect(a.warnings).toEqual(['cut-data.wav: the data chunk claims 8 bytes but the file holds 6; read as far as it goes (truncated file?)']);
    expect(parseWav(le, 'ok.wav').warnings).toBeUndefined();
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
    expect(() => parseWav(alaw, 'alaw.wav')).toThrow(/unsupported encoding: A-law \(6, 16 bits\)/);
  });
  it('audio: per-utterance and global normalization', () => {
    const z = zNormalize(Float32Array.from([1, 2, 3, 4]));
    expect(z.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
    expect(Math.sqrt(z.reduce((a, b) => a + b * b, 0) / 4)).toBeCloseTo(1, 5);
    expect([...zNormalize(Float32Array.from([3]), { mean: 1, std: 2 })]).toEqual([1]);
  });
});
