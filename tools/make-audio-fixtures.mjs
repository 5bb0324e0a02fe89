#!/usr/bin/env node
// Makes the small compressed audio files the decoder tests read (test/fixtures/audio/): WAV
// sources written here, encoded by the reference encoders of each format — flac (libFLAC), lame,
// opusenc (libopus): apt-get install flac lame opus-tools. Deterministic: the sources are fixed
// signals and a seeded noise; rerunning rewrites the same files with the same tools.
import { writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'audio');
mkdirSync(out, { recursive: true });

/** Integer PCM WAV, channels interleaved from `chans` (values already integers in range). */
function wav(file, rate, bits, chans) {
  const n = chans[0].length;
  const width = bits / 8;
  const data = Buffer.alloc(n * chans.length * width);
  for (let i = 0; i < n; i++) {
    chans.forEach((c, k) => data.writeIntLE(c[i], (i * chans.length + k) * width, width));
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(chans.length, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * chans.length * width, 28);
  h.writeUInt16LE(chans.length * width, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  writeFileSync(join(out, file), Buffer.concat([h, data]));
}

let seed = 12345;
const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const tone = (n, rate, parts) => Array.from({ length: n }, (_, i) => parts.reduce((s, [f, a]) => s + a * Math.sin((2 * Math.PI * f * i) / rate), 0));
const q = (x, bits) => x.map((v) => Math.max(-(2 ** (bits - 1)), Math.min(2 ** (bits - 1) - 1, Math.round(v * 2 ** (bits - 1)))));

// 16 kHz mono 16-bit: a tone (LPC / fixed subframes), silence (constant), full-scale noise (verbatim).
const a = [...tone(4000, 16000, [[440, 0.5], [1250, 0.1]]), ...new Array(9000).fill(0), ...Array.from({ length: 2400 }, () => noise() * 0.99)];
wav('mono16k16.wav', 16000, 16, [q(a, 16)]);
// 44.1 kHz stereo 24-bit, channels alike (mid/side and left/side decorrelation).
const l = tone(8820, 44100, [[300, 0.6], [2000, 0.05]]);
const r = l.map((v, i) => 0.8 * v + 0.05 * Math.sin((2 * Math.PI * 1000 * i) / 44100));
wav('stereo44k24.wav', 44100, 24, [q(l, 24), q(r, 24)]);
// 48 kHz mono 24-bit whose low 4 bits are zero (wasted bits).
wav('wasted48k24.wav', 48000, 24, [q(tone(9600, 48000, [[500, 0.7]]), 20).map((v) => v * 16)]);
// Lossy sources: 0.6 s tones.
wav('tone44k16.wav', 44100, 16, [q(tone(26460, 44100, [[440, 0.5], [880, 0.2]]), 16)]);
wav('tone48k16.wav', 48000, 16, [q(tone(28800, 48000, [[440, 0.5], [880, 0.2]]), 16)]);

const run = (cmd, args) => execFileSync(cmd, args, { cwd: out, stdio: ['ignore', 'ignore', 'inherit'] });
run('flac', ['-8', '-f', '--silent', '--no-seektable', '--no-padding', '-o', 'mono16k16.flac', 'mono16k16.wav']);
run('flac', ['-0', '-f', '--silent', '--no-seektable', '--no-padding', '-o', 'mono16k16-fixed.flac', 'mono16k16.wav']);
run('flac', ['-5', '-f', '--silent', '--no-seektable', '--no-padding', '-o', 'stereo44k24.flac', 'stereo44k24.wav']);
run('flac', ['-5', '-f', '--silent', '--no-seektable', '--no-padding', '-o', 'wasted48k24.flac', 'wasted48k24.wav']);
run('lame', ['--quiet', '-b', '96', 'tone44k16.wav', 'tone44k16.mp3']);
run('opusenc', ['--quiet', '--bitrate', '48', 'tone48k16.wav', 'tone48k16.opus']);
console.log(`wrote ${out}`);
