// pytorch_model.bin read without a file system: TorchBinFile.openAsync over byte ranges (what a
// page does with a File or HTTP Range requests), stored or deflated entries (DecompressionStream),
// checked against the values torch.save wrote (tools/gen_torchbin.py) and against the Node reader.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TorchBinFile } from '../../src/model/torchbin.js';
import { openTorchBin } from '../../src/model/folder.js';
import type { AsyncByteSource } from '../../src/model/safetensors_core.js';
import { GATHERED_IN_CHUNKS } from '../../src/model/model_files.js';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'torchbin');

/** A file's bytes as an async source that counts its reads. */
function counted(path: string): AsyncByteSource & { reads: number; bytes: number } {
  const b = new Uint8Array(readFileSync(path));
  const s = { size: b.length, reads: 0, bytes: 0, read: async (from: number, to: number) => ((s.reads++, s.bytes += to - from), b.slice(from, to)) };
  return s;
}

describe('pytorch_model.bin from byte ranges', () => {
  const want = JSON.parse(readFileSync(join(fx, 'mixed.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
  for (const file of ['mixed.bin', 'mixed-deflated.bin']) {
    it(`torchbin: ${file} read by ranges gives torch's values (f16, i64, a transposed view)`, async () => {
      const f = await TorchBinFile.openAsync(counted(join(fx, file)), file);
      expect(f.names().sort()).toEqual(Object.keys(want).sort());
      for (const [name, w] of Object.entries(want)) {
        expect(f.shape(name)).toEqual(w.shape);
        expect([...f.get(name)]).toEqual(w.values.map(Math.fround));
      }
      // The Node reader (synchronous, zlib) agrees.
      const n = openTorchBin(join(fx, file));
      for (const name of Object.keys(want)) expect([...n.get(name)]).toEqual([...f.get(name)]);
    });
  }
  it('torchbin: a deflated archive without an inflater names the way to read it', () => {
    const b = new Uint8Array(readFileSync(join(fx, 'mixed-deflated.bin')));
    expect(() => TorchBinFile.fromSource({ size: b.length, read: (s, e) => b.subarray(s, e) }, 'x.bin')).toThrow(/x\.bin: entry mixed\/data\.pkl is deflated; open the file with TorchBinFile\.openAsync/);
  });
  it('torchbin: the RoBERTa test checkpoint read by ranges equals the Node reader, tensor for tensor', async () => {
    const path = join(fx, 'roberta', 'pytorch_model.bin');
    const src = counted(path);
    const f = await TorchBinFile.openAsync(src, 'roberta/pytorch_model.bin');
    const n = openTorchBin(path);
    expect(f.names()).toEqual(n.names());
    expect(f.names().length).toBeGreaterThan(20);
    for (const name of n.names()) expect(f.get(name)).toEqual(n.get(name));
    // Each range once: the directory, then each entry's local header and data.
    expect(src.bytes).toBeLessThan(1.05 * src.size);
  });
  it('torchbin: a tensor over the binding limit is refused by name after reading only the directory and the pickle', async () => {
    const src = counted(join(fx, 'mixed.bin'));
    await expect(TorchBinFile.openAsync(src, 'mixed.bin', { maxBinding: 32 })).rejects.toThrow(/mixed\.bin: half \[4, 3\] is 0\.0 MiB; .*plain \[3, 5\] .*more than this adapter's largest storage binding .*no tensor data was downloaded/);
    expect(src.reads).toBe(4); // the archive's last 42 bytes, its directory, data.pkl's local header, data.pkl
  });
  it('torchbin: embedding tables, which the kernel gathers in chunks, are exempt from the binding limit', async () => {
    const path = join(fx, 'roberta', 'pytorch_model.bin');
    const n = openTorchBin(path);
    const size = (name: string): number => 4 * n.shape(name).reduce((a, b) => a * b, 1);
    const others = n.names().filter((x) => !GATHERED_IN_CHUNKS.test(x));
    const limit = Math.max(...others.map(size));
    expect(size('embeddings.word_embeddings.weight')).toBeGreaterThan(limit);
    await expect(TorchBinFile.openAsync(counted(path), 'r.bin', { maxBinding: limit })).rejects.toThrow(/r\.bin: embeddings\.word_embeddings\.weight \[300, 48\]/);
    const f = await TorchBinFile.openAsync(counted(path), 'r.bin', { maxBinding: limit, chunked: GATHERED_IN_CHUNKS });
    expect(f.get('embeddings.word_embeddings.weight')).toEqual(n.get('embeddings.word_embeddings.weight'));
  });
  it('torchbin: a pickle that calls os.system is refused from byte ranges too', async () => {
    await expect(TorchBinFile.openAsync(counted(join(fx, 'hostile.bin')), 'hostile.bin')).rejects.toThrow(/refusing to load: the pickle references posix\.system/);
  });
});
