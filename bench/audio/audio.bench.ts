// Decode + resample to 16 kHz, in audio seconds per second of wall time, in one run: the direct
// Kaiser-sinc sum (the previous path), the polyphase resampler (the current path), and ffmpeg
// where it is installed. No GPU involved.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAudio, resample, resampleDirect, encodeWav16 } from '../../src/audio/audio.js';
import { time, report, type Row } from '../util.js';

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
    const probe = spawnSync('ffmpeg', ['-version']);
    if (!probe.error) {
      push('ffmpeg', await time(async () => {
        const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', '1', '-ar', '16000', '-'], { maxBuffer: 1 << 28 });
        if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
      }, reps));
    }
  }
  report('audio', rows, { adapter: 'CPU (no GPU involved)' });
}
