/**
 * Audio files in (Node): WAV read here, FLAC, MP3 and Ogg Opus through `decode.ts` without system
 * tools, other formats through ffmpeg when it is installed; then `dsp.ts` (WAV parsing,
 * resampling to 16 kHz, truncation, normalization), which browsers share. Corrupt files give
 * errors that name the file.
 * @module
 */
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { decodeCompressed, UnsupportedFormat } from './decode.js';
import { parseWav, prepareAudio, type Audio, type PrepareOptions } from './dsp.js';

export * from './dsp.js';

/**
 * Reads an audio file: WAV, FLAC, MP3 and Ogg Opus here (`decode.ts`), anything else (AAC in MP4,
 * Vorbis) through ffmpeg (16 kHz mono) when it is installed.
 */
export async function readAudio(path: string): Promise<Audio> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const magic = buf.toString('ascii', 0, 4);
  if (magic === 'RIFF' || magic === 'RIFX') return parseWav(buf, path);
  let why = 'not WAV, FLAC, MP3 or Ogg Opus';
  try {
    const d = await decodeCompressed(buf, path);
    if (d) return d;
  } catch (e) {
    if (!(e instanceof UnsupportedFormat)) throw e;
    why = e.message.slice(path.length + 2);
  }
  return ffmpeg(path, why);
}

/** Decodes with ffmpeg to 16 kHz mono (the fallback for formats not read here). */
function ffmpeg(path: string, why: string): Promise<Audio> {
  return new Promise((done, fail) => {
    execFile('ffmpeg', ['-v', 'error', '-i', path, '-f', 'f32le', '-ac', '1', '-ar', '16000', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return fail(new Error(`${path}: ${why}, and ffmpeg (needed for it) is not installed: apt-get install ffmpeg`));
      if (err) return fail(new Error(`${path}: ffmpeg could not decode it: ${stderr.toString().trim().split('\n').at(-1) ?? err.message}`));
      done({ samples: new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length)), sampleRate: 16000 });
    });
  });
}

/** Options of {@link loadForModel}. */
export interface LoadOptions extends PrepareOptions {
  /** Where warnings about readable but defective files go (default: stderr). */
  onWarning?: (message: string) => void;
}

/** A file as 16 kHz mono, truncated and normalized as asked. */
export async function loadForModel(path: string, o: LoadOptions = {}): Promise<Float32Array> {
  const a = await readAudio(path);
  for (const w of a.warnings ?? []) (o.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(w);
  return prepareAudio(a, o, path);
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
