/**
 * Audio arithmetic with no file system (Node and browsers alike): WAV parsing (PCM 8/16/24/32-bit
 * integer and 32-bit float; any channel count, mixed to mono; RIFX; WAVE_FORMAT_EXTENSIBLE), the
 * band-limited resampler to 16 kHz, truncation and normalization. Reading files and compressed
 * formats is `audio.ts`'s (Node).
 * @module
 */

/** Mono samples and their rate. */
export interface Audio {
  samples: Float32Array;
  sampleRate: number;
  /** What was read despite a defect (e.g. a data chunk that claims more bytes than the file has), naming the file. */
  warnings?: string[];
}

/** Names of WAV format codes, for messages. */
const WAV_FORMATS: Record<number, string> = {
  1: 'PCM', 2: 'Microsoft ADPCM', 3: 'IEEE float', 6: 'A-law', 7: 'µ-law', 0x11: 'IMA ADPCM', 0x31: 'GSM 6.10', 0x50: 'MPEG', 0x55: 'MPEG layer 3', 0xfffe: 'WAVE_FORMAT_EXTENSIBLE',
};

/**
 * Parses a RIFF/WAVE file's bytes (mixing channels to mono); RIFX, the big-endian variant, too.
 * WAVE_FORMAT_EXTENSIBLE files are read by their sub-format. `name` appears in errors and warnings.
 */
export function parseWav(buf: Uint8Array, name = 'audio'): Audio {
  const bad = (why: string): never => {
    throw new Error(`${name}: not a readable WAV file: ${why}`);
  };
  const ascii = (from: number, to: number): string => String.fromCharCode(...buf.subarray(from, to));
  const magic = buf.length >= 12 ? ascii(0, 4) : '';
  if ((magic !== 'RIFF' && magic !== 'RIFX') || ascii(8, 12) !== 'WAVE') bad('no RIFF/WAVE header');
  const be = magic === 'RIFX';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (o: number): number => view.getUint16(o, !be);
  const u32 = (o: number): number => view.getUint32(o, !be);
  const warnings: string[] = [];
  let p = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let data: Uint8Array | null = null;
  while (p + 8 <= buf.length) {
    const id = ascii(p, p + 4);
    const size = u32(p + 4);
    const body = p + 8;
    // Some writers leave the data size at 0 or 0xffffffff when streaming: take the rest of the file.
    const streamed = id === 'data' && (size === 0 || size === 0xffffffff);
    const short = id === 'data' && !streamed && body + size > buf.length;
    if (short) warnings.push(`${name}: the data chunk claims ${size} bytes but the file holds ${buf.length - body}; read as far as it goes (truncated file?)`);
    const end = streamed || short ? buf.length : body + size;
    if (end > buf.length) bad(`chunk "${id}" claims ${size} bytes but only ${buf.length - body} remain (truncated or corrupt)`);
    if (id === 'fmt ') {
      if (size < 16) bad(`fmt chunk of ${size} bytes is too short`);
      let format = u16(body);
      const channels = u16(body + 2);
      const rate = u32(body + 4);
      const bits = u16(body + 14);
      if (format === 0xfffe) {
        if (size < 40) bad(`WAVE_FORMAT_EXTENSIBLE fmt chunk of ${size} bytes is too short for its sub-format`);
        format = u16(body + 24); // the sub-format GUID starts with the format code
      }
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
  if (!ok) bad(`unsupported encoding: ${WAV_FORMATS[format] ?? 'format'} (${format}, ${bits} bits); PCM 8/16/24/32-bit and float32 are read, others through ffmpeg`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const frames = Math.floor(data.length / (width * channels));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) {
      const o = (i * channels + c) * width;
      let v: number;
      if (format === 3) v = dv.getFloat32(o, !be);
      else if (bits === 8) v = (data[o]! - 128) / 128;
      else if (bits === 16) v = dv.getInt16(o, !be) / 32768;
      else if (bits === 24) {
        const [b0, b1, b2] = be ? [data[o + 2]!, data[o + 1]!, data[o]!] : [data[o]!, data[o + 1]!, data[o + 2]!];
        v = (((b2 << 24) | (b1 << 16) | (b0 << 8)) >> 8) / 8388608; // sign-extended 24-bit
      } else v = dv.getInt32(o, !be) / 2147483648;
      s += v;
    }
    out[i] = s / channels;
  }
  return { samples: out, sampleRate: rate, ...(warnings.length ? { warnings } : {}) };
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

/** The resampler's kernel: cutoff, half-width in input samples and Kaiser β. */
function kernelOf(from: number, to: number): { fc: number; half: number; beta: number; i0b: number } {
  const fc = 0.95 * Math.min(1, to / from); // cutoff as a fraction of the input Nyquist
  const zeros = 32;
  const beta = 8.6;
  return { fc, half: Math.ceil(zeros / fc), beta, i0b: besselI0(beta) };
}

/** The kernel's value at distance `u` input samples (0 beyond the half-width). */
function tap(u: number, k: ReturnType<typeof kernelOf>): number {
  if (Math.abs(u) > k.half) return 0;
  const a = k.fc * u;
  const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
  const r = u / k.half;
  return (k.fc * sinc * besselI0(k.beta * Math.sqrt(Math.max(0, 1 - r * r)))) / k.i0b;
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

/** Polyphase tables by rate pair: output j of phase p = (j·M) mod L reads taps[p] around input ⌊j·M / L⌋. */
const phaseTables = new Map<string, { L: number; M: number; half: number; taps: Float64Array }>();
/** Most phases tabulated (an odd rate pair with more falls back to the direct sum). */
const MAX_PHASES = 4096;

function phaseTable(from: number, to: number): { L: number; M: number; half: number; taps: Float64Array } | null {
  const key = `${from}>${to}`;
  let t = phaseTables.get(key);
  if (t) return t;
  if (!Number.isInteger(from) || !Number.isInteger(to)) return null;
  const g = gcd(from, to);
  const L = to / g;
  const M = from / g;
  if (L > MAX_PHASES) return null;
  const k = kernelOf(from, to);
  const width = 2 * k.half + 1; // offsets d = −half … half from the base input sample
  const taps = new Float64Array(L * width);
  for (let p = 0; p < L; p++) for (let d = -k.half; d <= k.half; d++) taps[p * width + d + k.half] = tap(p / L - d, k);
  t = { L, M, half: k.half, taps };
  phaseTables.set(key, t);
  return t;
}

/**
 * Band-limited resampling by a Kaiser-windowed sinc (β = 8.6, 32 zero crossings each side of the
 * kernel), cutoff 0.95 × the lower Nyquist frequency: flat in band, strong attenuation above.
 * For integer rates the kernel is tabulated once per rate pair in L phases (L/M the ratio in
 * lowest terms: 160 phases of 187 taps for 44.1 → 16 kHz), so each output sample is one dot
 * product; the result equals the direct sum ({@link resampleDirect}) up to rounding (the dot product runs
 * in four partial sums).
 */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  if (!(from > 0 && to > 0)) throw new Error(`resample: rates must be positive (${from} → ${to})`);
  const t = phaseTable(from, to);
  if (!t) return resampleDirect(x, from, to);
  const { L, M, half, taps } = t;
  const width = 2 * half + 1;
  const n = Math.floor((x.length * to) / from);
  const y = new Float32Array(n);
  const last = x.length - 1;
  for (let j = 0; j < n; j++) {
    const pos = j * M;
    const base = Math.floor(pos / L);
    const row = (pos - base * L) * width + half; // taps of offset d at row + d
    const d0 = Math.max(-half, -base);
    const d1 = Math.min(half, last - base);
    // Four partial sums: independent additions pipeline better than one dependent chain.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let d = d0;
    for (; d + 3 <= d1; d += 4) {
      const xi = base + d;
      const ti = row + d;
      s0 += x[xi]! * taps[ti]!;
      s1 += x[xi + 1]! * taps[ti + 1]!;
      s2 += x[xi + 2]! * taps[ti + 2]!;
      s3 += x[xi + 3]! * taps[ti + 3]!;
    }
    for (; d <= d1; d++) s0 += x[base + d]! * taps[row + d]!;
    y[j] = s0 + s1 + s2 + s3;
  }
  return y;
}

/** The same resampling summed directly, the kernel evaluated per tap (the reference; any rates). */
export function resampleDirect(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  if (!(from > 0 && to > 0)) throw new Error(`resample: rates must be positive (${from} → ${to})`);
  const ratio = to / from;
  const k = kernelOf(from, to);
  const n = Math.floor((x.length * to) / from);
  const y = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const t = j / ratio; // position in input samples
    const k0 = Math.max(0, Math.ceil(t - k.half));
    const k1 = Math.min(x.length - 1, Math.floor(t + k.half));
    let s = 0;
    for (let i = k0; i <= k1; i++) s += x[i]! * tap(t - i, k);
    y[j] = s;
  }
  return y;
}


/** Options of {@link prepareAudio}. */
export interface PrepareOptions {
  /** Keep at most this many seconds. */
  maxSeconds?: number;
  /** Zero-mean, unit-variance per utterance (WavLM-large expects it). */
  normalize?: boolean;
}

/** Decoded audio as the encoders take it: 16 kHz, truncated, normalized as asked. `name` appears in errors. */
export function prepareAudio(a: { samples: Float32Array; sampleRate: number }, o: PrepareOptions = {}, name = 'audio'): Float32Array {
  let x = resample(a.samples, a.sampleRate, 16000);
  if (o.maxSeconds !== undefined && x.length > o.maxSeconds * 16000) x = x.slice(0, Math.floor(o.maxSeconds * 16000));
  if (x.length === 0) throw new Error(`${name}: no audio samples`);
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

