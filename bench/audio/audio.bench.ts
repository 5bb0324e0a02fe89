// Decode + resample to 16 kHz, in audio seconds per second of wall time, in one run. WAV: the
// direct Kaiser-sinc sum (the previous path), the polyphase resampler (the current path), ffmpeg.
// FLAC, MP3, Ogg Opus: crab's decoders (ours for FLAC, mpg123 and libopus in WASM) against
// ffmpeg, which was the only path before. The compressed files are made from a 12 s WAV by
// flac, lame and opusenc when installed (apt-get install flac lame opus-tools); rows whose tool
// is missing are left out and named. No GPU involved.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudio, resample, resampleDirect, encodeWav16 } from '../../src/audio/audio.js';
import { time, report, type Row } from '../util.js';
import { initDevice } from '../../src/tensor/device.js';
import { WavLMModel, WAVLM_DEFAULTS } from '../../src/model/wavlm.js';
import { embedFiles } from '../../src/data/embed.js';
import { newThroughput, throughputLine } from '../../src/data/features.js';

const hasFfmpeg = !spawnSync('ffmpeg', ['-version']).error;

function ffmpeg(file: string): void {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', '1', '-ar', '16000', '-'], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
}

export async function benchAudio(opts: { quick?: boolean } = {}): Promise<void> {
  const reps = opts.quick ? 1 : 3;
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'crab-audio-bench-'));
  const seconds = 12;
  for (const rate of [8000, 22050, 44100, 48000]) {
    const x = Float32Array.from({ length: rate * seconds }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 220 * i) / rate) + 0.2 * Math.sin((2 * Math.PI * 3100 * i) / rate));
    const file = join(dir, `tone-${rate}.wav`);
    writeFileSync(file, encodeWav16(x, rate));
    const w = `${seconds} s of ${rate / 1000} kHz WAV → 16 kHz`;
    const push = (impl: string, ms: number): void => void rows.push({ workload: w, impl, ms, rate: (seconds * 1000) / ms, unit: '× real time' });
    push('crab polyphase', await time(async () => resample((await readAudio(file)).samples, rate, 16000), reps));
    push('direct sum (previous)', await time(async () => resampleDirect((await readAudio(file)).samples, rate, 16000), opts.quick ? 1 : 2));
    if (hasFfmpeg) push('ffmpeg', await time(async () => ffmpeg(file), reps));
  }
  // Compressed formats, 12 s at 44.1 kHz (Opus: 48 kHz, its only rate).
  const missing: string[] = [];
  if (!hasFfmpeg) missing.push('ffmpeg');
  for (const [fmt, tool, rate, args] of [
    ['flac', 'flac', 44100, (i: string, o: string) => ['-5', '-f', '--silent', '-o', o, i]],
    ['mp3', 'lame', 44100, (i: string, o: string) => ['--quiet', '-b', '128', i, o]],
    ['opus', 'opusenc', 48000, (i: string, o: string) => ['--quiet', '--bitrate', '64', i, o]],
  ] as const) {
    const x = Float32Array.from({ length: rate * seconds }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 220 * i) / rate) + 0.2 * Math.sin((2 * Math.PI * 3100 * i) / rate));
    const src = join(dir, `src-${fmt}.wav`);
    writeFileSync(src, encodeWav16(x, rate));
    const file = join(dir, `tone.${fmt}`);
    const made = spawnSync(tool, args(src, file));
    if (made.error || made.status !== 0) {
      missing.push(tool);
      continue;
    }
    const w = `${seconds} s of ${rate / 1000} kHz ${fmt.toUpperCase()} → 16 kHz`;
    const push = (impl: string, ms: number): void => void rows.push({ workload: w, impl, ms, rate: (seconds * 1000) / ms, unit: '× real time' });
    await readAudio(file); // WASM compiled once per process, as in a feature run
    push(`crab (${fmt === 'flac' ? 'own decoder' : fmt === 'mp3' ? 'mpg123 WASM' : 'libopus WASM'}) + polyphase`, await time(async () => {
      const a = await readAudio(file);
      resample(a.samples, a.sampleRate, 16000);
    }, reps));
    if (hasFfmpeg) push('ffmpeg (the previous path)', await time(async () => ffmpeg(file), reps));
  }
  if (missing.length) console.log(`audio: left out rows needing ${missing.join(', ')} (not installed)`);
  // crab embed end to end (decode + resample + WavLM on the adapter): WavLM-base-plus shapes,
  // random weights, three 4 s files at 44.1 kHz.
  const { info } = await initDevice();
  const model = new WavLMModel({ ...WAVLM_DEFAULTS, hidden_dropout: 0, attention_dropout: 0, feat_proj_dropout: 0, layerdrop: 0 }, 1);
  const files = [0, 1, 2].map((k) => {
    const f = join(dir, `embed-${k}.wav`);
    writeFileSync(f, encodeWav16(Float32Array.from({ length: 4 * 44100 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (200 + 50 * k) * i) / 44100)), 44100));
    return f;
  });
  await embedFiles(model, files.slice(0, 1), join(dir, 'warm.safetensors'), { quiet: true }); // pipelines compiled
  const stats = newThroughput();
  const ms = await time(async () => void (await embedFiles(model, files, join(dir, 'e.safetensors'), { quiet: true, stats })), 1);
  rows.push({ workload: 'crab embed: 3 × 4 s of 44.1 kHz WAV, WavLM-base-plus shapes', impl: 'decode + resample + encoder', ms, rate: 12000 / ms, unit: '× real time' });
  console.log(throughputLine('crab embed', stats));
  report('audio', rows, { adapter: `CPU for decoding; crab embed's encoder on ${info.name}` });
}
