/**
 * Model folders on disk (Node): registers the reader {@link filesOf} uses for folder paths, with
 * lazy reads for checkpoints and `pytorch_model.bin` through the restricted unpickler. Imported
 * for its effect by the Node entries (the CLI, the library, the benches, the tests).
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFolderReader } from './model_files.js';
import { fileByteSource } from './safetensors.js';
import { TorchBinFile } from './torchbin.js';

setFolderReader((dir) => ({
  where: dir,
  has: (name) => existsSync(join(dir, name)),
  text: (name) => readFileSync(join(dir, name), 'utf8'),
  source: (name) => fileByteSource(join(dir, name)),
  torchbin: (name) => {
    const f = new TorchBinFile(join(dir, name));
    return { names: () => f.names(), shape: (n) => f.shape(n), float32: (n) => f.get(n) };
  },
}));
