/**
 * Model folders on disk (Node): registers the reader {@link filesOf} uses for folder paths, with
 * lazy reads for checkpoints and `pytorch_model.bin` through the restricted unpickler. Imported
 * for its effect by the Node entries (the CLI, the library, the benches, the tests).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { setFolderReader, tensorFile } from './model_files.js';
import { fileByteSource } from './safetensors.js';
import { TorchBinFile } from './torchbin.js';

/** A `pytorch_model.bin` on disk, read lazily (Node). */
export function openTorchBin(path: string): TorchBinFile {
  return TorchBinFile.fromSource(fileByteSource(path), path, (raw) => inflateRawSync(raw));
}

setFolderReader((dir) => ({
  where: dir,
  has: (name) => existsSync(join(dir, name)),
  text: (name) => readFileSync(join(dir, name), 'utf8'),
  source: (name) => fileByteSource(join(dir, name)),
  torchbin: (name) => tensorFile(openTorchBin(join(dir, name))),
}));
