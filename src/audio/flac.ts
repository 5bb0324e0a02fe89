/**
 * A FLAC decoder (native FLAC streams, as written by `flac` and libFLAC): STREAMINFO, frames with
 * CONSTANT, VERBATIM, FIXED and LPC subframes, Rice-coded residuals (4- and 5-bit parameters,
 * escapes), wasted bits and the three stereo decorrelations. Written here because the WASM FLAC
 * decoders on npm depend on an LGPL parser; FLAC's format is small and fully specified
 * (RFC 9639). Each frame's CRC-16 is checked, so a corrupt frame is an error, not noise.
 * @module
 */

/** Decoded FLAC: samples mixed to mono, in [−1, 1). */
export interface FlacAudio {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** How many subframes of each kind, and frames of each channel coding, the stream used. */
  coding: Record<string, number>;
}

/** Reads big-endian bit fields from a byte array. */
class Bits {
  pos = 0; // in bits
  constructor(private readonly b: Uint8Array, private readonly name: string) {}

  fail(why: string): never {
    throw new Error(`${this.name}: not a readable FLAC file: ${why} (at byte ${this.pos >> 3})`);
  }

  /** An unsigned field of n ≤ 32 bits. */
  u(n: number): number {
    if (n === 0) return 0;
    if (this.pos + n > this.b.length * 8) this.fail('unexpected end of data (truncated file?)');
    let v = 0;
    let left = n;
    while (left > 0) {
      const byte = this.b[this.pos >> 3]!;
      const off = this.pos & 7;
      const take = Math.min(8 - off, left);
      const bits = (byte >> (8 - off - take)) & ((1 << take) - 1);
      v = v * (1 << take) + bits; // not <<: fields up to 32 bits stay positive
      left -= take;
      this.pos += take;
    }
    return v;
  }

  /** A two's-complement field of n ≤ 32 bits. */
  s(n: number): number {
    if (n === 0) return 0;
    const v = this.u(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }

  /** Zeros before the next 1 (the 1 is consumed). */
  unary(): number {
    let q = 0;
    for (;;) {
      if (this.pos >= this.b.length * 8) this.fail('unexpected end of data in a residual');
      const byte = (this.b[this.pos >> 3]! << (this.pos & 7)) & 0xff;
      if (byte === 0) {
        q += 8 - (this.pos & 7);
        this.pos = (this.pos | 7) + 1;
        continue;
      }
      const z = Math.clz32(byte) - 24;
      q += z;
      this.pos += z + 1;
      return q;
    }
  }

  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -1, -2, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const SAMPLE_SIZES = [0, 8, 12, -1, 16, 20, 24, 32];

/** CRC-16 of FLAC frames (polynomial 0x8005, MSB first, initial 0), by table. */
const CRC16 = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(b: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = ((c << 8) & 0xffff) ^ CRC16[(c >> 8) ^ b[i]!]!;
  return c;
}

/** Whether the bytes start like a native FLAC stream. */
export const isFlac = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x66 && b[1] === 0x4c && b[2] === 0x61 && b[3] === 0x43;

/** Decodes a native FLAC stream's bytes; `name` appears in errors. */
export function decodeFlac(bytes: Uint8Array, name = 'audio'): FlacAudio {
  const r = new Bits(bytes, name);
  if (!isFlac(bytes)) r.fail('no "fLaC" marker');
  r.pos = 32;
  let info: { rate: number; channels: number; bps: number; total: number } | null = null;
  for (let last = false; !last;) {
    last = r.u(1) === 1;
    const type = r.u(7);
    const len = r.u(24);
    const start = r.pos;
    if (type === 0) {
      r.u(16); // min block size
      r.u(16); // max block size
      r.u(24); // min frame size
      r.u(24); // max frame size
      const rate = r.u(20);
      const channels = r.u(3) + 1;
      const bps = r.u(5) + 1;
      const total = r.u(4) * 2 ** 32 + r.u(32);
      info = { rate, channels, bps, total };
    }
    r.pos = start + len * 8;
    if (r.pos > bytes.length * 8) r.fail(`metadata block of type ${type} runs past the end of the file`);
  }
  if (!info) return r.fail('no STREAMINFO block');
  if (info.rate === 0) r.fail('sample rate 0 in STREAMINFO');
  const coding: Record<string, number> = {};
  const mono: number[] = [];
  const out = new Float32Array(info.total || 0);
  let n = 0;
  const push = (chans: Int32Array[] | Float64Array[], size: number, bps: number): void => {
    const scale = 1 / (2 ** (bps - 1) * chans.length);
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (const c of chans) s += c[i]!;
      if (n < out.length) out[n] = s * scale;
      else mono.push(s * scale);
      n++;
    }
  };
  while (r.pos + 16 <= bytes.length * 8) {
    r.align();
    // Sync: 0xFFF8 (fixed block size) or 0xFFF9 (variable).
    if (bytes[r.pos >> 3] !== 0xff || (bytes[(r.pos >> 3) + 1]! & 0xfe) !== 0xf8) {
      if (n >= info.total && info.total > 0) break; // trailing bytes after the last frame
      r.fail('lost frame sync');
    }
    const start = r.pos >> 3;
    const frame = readFrame(r, info, coding);
    const end = r.pos >> 3;
    if (crc16(bytes, start, end - 2) !== ((bytes[end - 2]! << 8) | bytes[end - 1]!)) r.fail(`the frame at byte ${start} fails its CRC-16 (corrupt file)`);
    push(frame.channels, frame.size, frame.bps);
  }
  const samples = n <= out.length ? out.subarray(0, n) : Float32Array.from([...out, ...mono]);
  return { samples, sampleRate: info.rate, channels: info.channels, bitsPerSample: info.bps, coding };
}

/** One frame: header, a subframe per channel, stereo decorrelation. */
function readFrame(r: Bits, info: { rate: number; channels: number; bps: number }, coding: Record<string, number>): { channels: Float64Array[]; size: number; bps: number } {
  r.u(15); // sync
  r.u(1); // blocking strategy
  const bsCode = r.u(4);
  const rateCode = r.u(4);
  const assign = r.u(4);
  const sizeCode = r.u(3);
  r.u(1);
  // The frame or sample number, UTF-8 coded: its length only matters here.
  const first = r.u(8);
  const extra = first < 0x80 ? 0 : first >= 0xfe ? 6 : Math.clz32(~(first << 24)) - 1;
  for (let i = 0; i < extra; i++) r.u(8);
  let size = BLOCK_SIZES[bsCode]!;
  if (size === -1) size = r.u(8) + 1;
  else if (size === -2) size = r.u(16) + 1;
  else if (size === 0) r.fail('reserved block size');
  if (rateCode === 12) r.u(8);
  else if (rateCode === 13 || rateCode === 14) r.u(16);
  else if (rateCode === 15) r.fail('invalid sample rate code');
  const bps = sizeCode === 0 ? info.bps : SAMPLE_SIZES[sizeCode]!;
  if (bps < 0) r.fail('reserved sample size');
  r.u(8); // CRC-8
  const nch = assign < 8 ? assign + 1 : assign <= 10 ? 2 : r.fail(`reserved channel assignment ${assign}`);
  const mode = assign < 8 ? 'independent' : ['left-side', 'side-right', 'mid-side'][assign - 8]!;
  coding[mode] = (coding[mode] ?? 0) + 1;
  const chans: Float64Array[] = [];
  for (let c = 0; c < nch; c++) {
    // The side channel carries one more bit.
    const side = (assign === 8 && c === 1) || (assign === 9 && c === 0) || (assign === 10 && c === 1);
    chans.push(readSubframe(r, size, bps + (side ? 1 : 0), coding));
  }
  if (assign >= 8) {
    const [a, b] = chans as [Float64Array, Float64Array];
    for (let i = 0; i < size; i++) {
      if (assign === 8) b[i] = a[i]! - b[i]!; // left, side → right
      else if (assign === 9) a[i] = a[i]! + b[i]!; // side, right → left
      else {
        const mid = a[i]! * 2 + (b[i]! & 1);
        const s = b[i]!;
        a[i] = (mid + s) / 2;
        b[i] = (mid - s) / 2;
      }
    }
  }
  r.align();
  r.u(16); // CRC-16
  return { channels: chans, size, bps };
}

function readSubframe(r: Bits, size: number, bpsIn: number, coding: Record<string, number>): Float64Array {
  if (r.u(1) !== 0) r.fail('subframe padding bit set');
  const type = r.u(6);
  let wasted = 0;
  if (r.u(1)) wasted = r.unary() + 1;
  const kind = type === 0 ? 'constant' : type === 1 ? 'verbatim' : type >= 8 && type <= 12 ? 'fixed' : type >= 32 ? 'lpc' : 'reserved';
  coding[kind] = (coding[kind] ?? 0) + 1;
  if (wasted) coding.wasted = (coding.wasted ?? 0) + 1;
  const bps = bpsIn - wasted;
  const x = new Float64Array(size);
  if (type === 0) {
    x.fill(r.s(bps));
  } else if (type === 1) {
    for (let i = 0; i < size; i++) x[i] = r.s(bps);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    for (let i = 0; i < order; i++) x[i] = r.s(bps);
    residual(r, x, order);
    for (let i = order; i < size; i++) {
      const p = order === 0 ? 0 : order === 1 ? x[i - 1]! : order === 2 ? 2 * x[i - 1]! - x[i - 2]!
        : order === 3 ? 3 * x[i - 1]! - 3 * x[i - 2]! + x[i - 3]! : 4 * x[i - 1]! - 6 * x[i - 2]! + 4 * x[i - 3]! - x[i - 4]!;
      x[i]! += p;
    }
  } else if (type >= 32) {
    const order = type - 31;
    for (let i = 0; i < order; i++) x[i] = r.s(bps);
    const precision = r.u(4) + 1;
    if (precision === 16) r.fail('invalid LPC coefficient precision');
    const shift = r.s(5);
    if (shift < 0) r.fail('negative LPC shift');
    const coefs = Array.from({ length: order }, () => r.s(precision));
    residual(r, x, order);
    const div = 2 ** shift;
    for (let i = order; i < size; i++) {
      let sum = 0;
      for (let j = 0; j < order; j++) sum += coefs[j]! * x[i - 1 - j]!;
      x[i]! += Math.floor(sum / div); // an arithmetic shift right
    }
  } else {
    r.fail(`reserved subframe type ${type}`);
  }
  if (wasted) for (let i = 0; i < size; i++) x[i]! *= 2 ** wasted;
  return x;
}

/** Rice-coded residuals into x[order …]. */
function residual(r: Bits, x: Float64Array, order: number): void {
  const method = r.u(2);
  if (method > 1) r.fail(`reserved residual coding method ${method}`);
  const pbits = method === 0 ? 4 : 5;
  const escape = (1 << pbits) - 1;
  const porder = r.u(4);
  const parts = 1 << porder;
  const per = x.length >> porder;
  if (per * parts !== x.length || per < order) r.fail('residual partitions do not fit the block');
  let i = order;
  for (let p = 0; p < parts; p++) {
    const count = p === 0 ? per - order : per;
    const k = r.u(pbits);
    if (k === escape) {
      const raw = r.u(5);
      for (let j = 0; j < count; j++) x[i++] = r.s(raw);
      continue;
    }
    for (let j = 0; j < count; j++) {
      const u = r.unary() * 2 ** k + r.u(k);
      x[i++] = u % 2 ? -(u + 1) / 2 : u / 2; // zigzag
    }
  }
}
