/**
 * Compressed audio without system tools: FLAC by our own decoder (`flac.ts`), MP3 by
 * `mpg123-decoder` and Opus in Ogg by `opus-decoder` (both MIT-licensed WASM builds of mpg123 and
 * libopus), the Ogg pages parsed here. Everything else — AAC in MP4 (MELD), Vorbis — goes to
 * ffmpeg when it is installed. (`ogg-opus-decoder` and `@wasm-audio-decoders/flac` are not used:
 * they depend on `codec-parser`, which is LGPL-3.0.)
 * @module
 */
import { decodeFlac, isFlac } from './flac.js';

/** Mono samples and their rate, as the WAV reader returns them. */
export interface Decoded {
  samples: Float32Array;
  sampleRate: number;
}

/** The container or codec the bytes start with, or null when none of ours. */
export function sniff(b: Uint8Array): 'flac' | 'mp3' | 'ogg' | null {
  if (isFlac(b)) return 'flac';
  if (b.length >= 4 && b[0] === 0x4f && b[1] === 0x67 && b[2] === 0x67 && b[3] === 0x53) return 'ogg';
  if (b.length >= 3 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) return 'mp3'; // ID3v2 tag
  if (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe6) === 0xe2) return 'mp3'; // MPEG audio frame sync, layer III
  return null;
}

/** Averages channels into one. */
function mix(chans: Float32Array[], n: number): Float32Array {
  if (chans.length === 1) return chans[0]!.slice(0, n);
  const out = new Float32Array(n);
  for (const c of chans) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  for (let i = 0; i < n; i++) out[i]! /= chans.length;
  return out;
}

/**
 * Decodes FLAC, MP3 or Ogg Opus bytes; null when the format is none of these (the caller then
 * tries ffmpeg). Errors name the file.
 */
export async function decodeCompressed(bytes: Uint8Array, name: string): Promise<Decoded | null> {
  const kind = sniff(bytes);
  if (kind === 'flac') {
    const f = decodeFlac(bytes, name);
    return { samples: f.samples, sampleRate: f.sampleRate };
  }
  if (kind === 'mp3') return decodeMp3(bytes, name);
  if (kind === 'ogg') return decodeOgg(bytes, name);
  return null;
}

async function decodeMp3(bytes: Uint8Array, name: string): Promise<Decoded> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  const d = new MPEGDecoder();
  await d.ready;
  try {
    const r = d.decode(bytes);
    if (!r.samplesDecoded) throw new Error(`${name}: not a readable MP3 file${r.errors.length ? `: ${r.errors[0]!.message}` : ''}`);
    return { samples: mix(r.channelData, r.samplesDecoded), sampleRate: r.sampleRate };
  } finally {
    d.free();
  }
}

/** The packets of the first logical stream of an Ogg file, and the last granule position. */
export function oggPackets(b: Uint8Array, name: string): { packets: Uint8Array[]; granule: number } {
  const bad = (why: string): never => {
    throw new Error(`${name}: not a readable Ogg file: ${why}`);
  };
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const packets: Uint8Array[] = [];
  let partial: Uint8Array[] = [];
  let serial: number | null = null;
  let granule = 0;
  let p = 0;
  while (p + 27 <= b.length) {
    if (view.getUint32(p) !== 0x4f676753) bad(`no page header at byte ${p}`);
    const g = Number(view.getBigInt64(p + 6, true));
    const s = view.getUint32(p + 14, true);
    const nseg = b[p + 26]!;
    if (p + 27 + nseg > b.length) bad(`page at byte ${p} is cut short`);
    const lacing = b.subarray(p + 27, p + 27 + nseg);
    let at = p + 27 + nseg;
    const size = lacing.reduce((a, v) => a + v, 0);
    if (at + size > b.length) bad(`page at byte ${p} claims ${size} bytes, ${b.length - at} remain (truncated file?)`);
    serial ??= s;
    if (s === serial) {
      if (g >= 0) granule = g;
      for (const l of lacing) {
        partial.push(b.subarray(at, at + l));
        at += l;
        if (l < 255) {
          // A packet ends at a lacing value below 255.
          const len = partial.reduce((a, x) => a + x.length, 0);
          const pk = new Uint8Array(len);
          let o = 0;
          for (const x of partial) {
            pk.set(x, o);
            o += x.length;
          }
          packets.push(pk);
          partial = [];
        }
      }
    }
    p += 27 + nseg + size;
  }
  return { packets, granule };
}

async function decodeOgg(bytes: Uint8Array, name: string): Promise<Decoded> {
  const { packets, granule } = oggPackets(bytes, name);
  const head = packets[0];
  const magic = head ? new TextDecoder().decode(head.subarray(0, 8)) : '';
  if (magic !== 'OpusHead') {
    const codec = magic.startsWith('\x01vorbis') ? 'Vorbis' : magic.startsWith('\x7fFLAC') ? 'FLAC in Ogg' : 'an unknown codec';
    throw new UnsupportedFormat(`${name}: Ogg with ${codec}; Opus is read here, other Ogg codecs through ffmpeg`);
  }
  const hv = new DataView(head!.buffer, head!.byteOffset, head!.byteLength);
  const channels = head![9]!;
  const preSkip = hv.getUint16(10, true);
  const family = head![18]!;
  const opts = family === 0 || head!.length < 21
    ? { channels }
    : { channels, streamCount: head![19]!, coupledStreamCount: head![20]!, channelMappingTable: [...head!.subarray(21, 21 + channels)] };
  const { OpusDecoder } = await import('opus-decoder');
  // Decoded at 48 kHz, Opus' own rate: the granule positions count 48 kHz samples.
  const d = new OpusDecoder({ ...opts, preSkip, sampleRate: 48000 });
  await d.ready;
  try {
    const r = d.decodeFrames(packets.slice(2)); // after OpusHead and OpusTags
    if (r.errors.length && !r.samplesDecoded) throw new Error(`${name}: not a readable Opus stream: ${r.errors[0]!.message}`);
    // The last granule position, less the pre-skip, is the stream's length (RFC 7845 §4).
    const n = granule > preSkip ? Math.min(r.samplesDecoded, granule - preSkip) : r.samplesDecoded;
    return { samples: mix(r.channelData, n), sampleRate: 48000 };
  } finally {
    d.free();
  }
}

/** A format recognised but not decoded here (the caller may try ffmpeg). */
export class UnsupportedFormat extends Error {}
