// crab embed's core: files in, chosen layers out; an unreadable file is skipped and reported.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audioFiles, embedFiles } from '../../src/data/embed.js';
import { newThroughput, throughputLine } from '../../src/data/features.js';
import { loadWavLM } from '../../src/model/pretrained.js';
import { encodeWav16 } from '../../src/audio/audio.js';
import { SafetensorsFile } from '../../src/model/safetensors.js';
import { fromArray, noGrad } from '../../src/tensor/tensor.js';
import { expectClose } from '../helpers.js';

describe('embed', () => {
  it('embed: WAV files (one at 8 kHz) → layers 0 and 2 of the tiny WavLM; a corrupt file is skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embed-'));
    const a = Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i / 7));
    writeFileSync(join(dir, 'a.wav'), encodeWav16(a, 16000));
    writeFileSync(join(dir, 'b.wav'), encodeWav16(Float32Array.from({ length: 4000 }, (_, i) => 0.2 * Math.cos(i / 5)), 8000));
    writeFileSync(join(dir, 'bad.wav'), Buffer.from('RIFF0000WAVEjunk'));
    const files = audioFiles([dir]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['a.wav', 'b.wav', 'bad.wav']);
    const model = loadWavLM(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'wavlm', 'base'));
    const out = join(dir, 'e.safetensors');
    const stats = newThroughput();
    const r = await embedFiles(model, files, out, { layers: [0, 2], quiet: true, stats });
    // Throughput: 0.5 s at 16 kHz and 0.5 s at 8 kHz were read; both phases took time.
    expect(stats.audioSeconds).toBeCloseTo(1.0, 6);
    expect(stats.decodeMs).toBeGreaterThan(0);
    expect(stats.encodeMs).toBeGreaterThan(0);
    expect(throughputLine('embed', stats)).toMatch(/^embed: 1\.0 s of audio in \d+\.\d s \([\d.]+× real time\): decode \+ resample [\d.]+× real time, encoders [\d.]+× real time$/);
    const index = JSON.parse(readFileSync(r.index, 'utf8')) as { files: Array<{ input: string; name: string; tensors: string[] }> };
    expect(index.files.map((f) => [f.name, f.tensors])).toEqual([['a', ['a.layer0', 'a.layer2']], ['b', ['b.layer0', 'b.layer2']]]);
    expect(r.written).toBe(2);
    expect(r.skipped.map((s) => s.file)).toEqual([join(dir, 'bad.wav')]);
    const st = SafetensorsFile.open(out);
    expect(st.names().sort()).toEqual(['a.layer0', 'a.layer2', 'b.layer0', 'b.layer2']);
    // a.wav is 16 kHz already: its layer 2 equals the model run directly on the samples (16-bit rounded).
    const q = Float32Array.from(a, (v) => Math.round(v * 32767) / 32768);
    const direct = noGrad(() => model.forward(fromArray(q, [1, q.length]), undefined, true).hiddenStates![2]!);
    expectClose(st.float32('a.layer2'), await direct.toArray(), 1e-5, 1e-4, 'a.layer2');
    expect(st.shape('b.layer2')[0]).toBe(24); // 8000 samples after resampling → 24 frames
  });
});
