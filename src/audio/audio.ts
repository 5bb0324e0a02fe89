/**
 * Audio in: WAV reading (PCM 8/16/24/32-bit integer and 32-bit float; any channel count, mixed
 * to mono), other formats through ffmpeg when it is installed, a band-limited resampler to
 * 16 kHz, truncation and normalization. Corrupt files give errors that name the file.
 * @module
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Mono samples and their rate. */
export interface Audio {
  samples: Float32Array;
  sampleRate: number;
}

/** Parses a RIFF/WAVE file's bytes (mixing channels to mono). `name` appears in errors. */
export function parseWav(buf: Buffer, name = 'audio'): Audio {
  const bad = (why: string): never => {
    throw new Error(`${name}: not a readable WAV file: ${why}`);
  };
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') bad('no RIFF/WAVE header');
  let p = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let data: Buffer | null = null;
  while (p + 8 <= buf.length) {
    const id = buf.toString('ascii', p, p + 4);
    const size = buf.readUInt32LE(p + 4);
    const body = p + 8;
    // Some writers leave the data size at 0 or 0xffffffff when streaming: take the rest of the file.
    const end = id === 'data' && (size === 0 || size === 0xffffffff || body + size > buf.length) ? buf.length : body + size;
    if (end > buf.length) bad(`chunk "${id}" claims ${size} bytes but only ${buf.length - body} remain (truncated or corrupt)`);
    if (id === 'fmt ') {
      if (size < 16) bad(`fmt chunk of ${size} bytes is too short`);
      let format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const rate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE sub-format
      fmt = { format, channels, rate, bits };
    } else if (id === 'data') {
      data = buf.subarray(body, end);
    }
    p = end + (size % 2); // chunks are word-aligned
  }
  if (!fmt) return bad('no fmt chunk');
  if (!data) return bad('no data chunk');
  const { format, channels, rate, bits } = fmt;
  if (channels < 1) bad(`${channels} channels`);
  if (rate < 1 || rate > 768000) bad(`sample rate ${rate} Hz is not plausible`);
  const width = bits / 8;
  const ok = (format === 1 && [8, 16, 24, 32].includes(bits)) || (format === 3 && bits === 32);
  if (!ok) bad(`unsupported encoding (format ${format}, ${bits} bits); PCM 8/16/24/32-bit and float32 are read, others through ffmpeg`);
  const frames = Math.floor(data.length / (width * channels));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) {
      const o = (i * channels + c) * width;
      let v: number;
      if (format === 3) v = data.readFloatLE(o);
      else if (bits === 8) v = (data[o]! - 128) / 128;
      else if (bits === 16) v = data.readInt16LE(o) / 32768;
      else if (bits === 24) v = data.readIntLE(o, 3) / 8388608;
      else v = data.readInt32LE(o) / 2147483648;
      s += v;
    }
    out[i] = s / channels;
  }
  return { samples: out, sampleRate: rate };
}

/** Reads an audio file: WAV directly, anything else through ffmpeg (16 kHz mono) if installed. */
export function readAudio(path: string): Audio {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.toString('ascii', 0, 4) === 'RIFF') return parseWav(buf, path);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ac', '1', '-ar', '16000', '-'], { maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`${path}: not a WAV file, and ffmpeg (needed for other formats) is not installed: apt-get install ffmpeg`);
  if (r.status !== 0) throw new Error(`${path}: ffmpeg could not decode it: ${r.stderr.toString().trim().split('\n').at(-1)}`);
  const b = r.stdout as Buffer;
  return { samples: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)), sampleRate: 16000 };
}

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/**
 * Band-limited resampling by a Kaiser-windowed sinc (β = 8.6, 32 zero crossings each side of
 * the kernel), cutoff 0.95 × the lower Nyquist frequency: flat in band, strong attenuation above.
 */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  if (!(from > 0 && to > 0)) throw new Error(`resample: rates must be positive (${from} → ${to})`);
  const ratio = to / from;
  const fc = 0.95 * Math.min(1, ratio); // cutoff as a fraction of the input Nyquist
  const zeros = 32;
  const half = Math.ceil(zeros / fc); // kernel half-width in input samples
  const beta = 8.6;
  const i0b = besselI0(beta);
  const n = Math.floor((x.length * to) / from);
  const y = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const t = j / ratio; // position in input samples
    const k0 = Math.max(0, Math.ceil(t - half));
    const k1 = Math.min(x.length - 1, Math.floor(t + half));
    let s = 0;
    for (let k = k0; k <= k1; k++) {
      const u = t - k;
      const a = fc * u;
      const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
      const r = u / half;
      const w = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
      s += x[k]! * fc * sinc * w;
    }
    y[j] = s;
  }
  return y;
}

/** Options of {@link loadForModel}. */
export interface LoadOptions {
  /** Keep at most this many seconds. */
  maxSeconds?: number;
  /** Zero-mean, unit-variance per utterance (WavLM-large expects it). */
  normalize?: boolean;
}

/** A file as 16 kHz mono, truncated and normalized as asked. */
export function loadForModel(path: string, o: LoadOptions = {}): Float32Array {
  const a = readAudio(path);
  let x = resample(a.samples, a.sampleRate, 16000);
  if (o.maxSeconds !== undefined && x.length > o.maxSeconds * 16000) x = x.slice(0, Math.floor(o.maxSeconds * 16000));
  if (x.length === 0) throw new Error(`${path}: no audio samples`);
  if (o.normalize) x = zNormalize(x);
  return x;
}

/** (x − mean) / std (std floored at 1e-7), or with given global statistics. */
export function zNormalize(x: Float32Array, stats?: { mean: number; std: number }): Float32Array {
  let mean = stats?.mean;
  let std = stats?.std;
  if (mean === undefined || std === undefined) {
    let s = 0;
    for (const v of x) s += v;
    mean = s / x.length;
    let q = 0;
    for (const v of x) q += (v - mean) ** 2;
    std = Math.sqrt(q / x.length);
  }
  const inv = 1 / Math.max(std, 1e-7);
  return x.map((v) => (v - mean!) * inv);
}

/** Encodes mono float samples as a 16-bit PCM WAV file's bytes. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32767))), i * 2));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
