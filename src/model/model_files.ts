/**
 * A model folder's files wherever they are: a folder on disk under Node, or files a page fetched
 * or a user dropped. Readers of `config.json`, tokenizer files and checkpoints take a
 * {@link ModelFiles} (or a folder path, under Node), so parsing never depends on the file system.
 * @module
 */
import type { ByteSource } from './safetensors_core.js';

/** What a checkpoint file offers: names, shapes and f32 data. */
export interface TensorFile {
  names(): string[];
  shape(name: string): number[];
  float32(name: string): Float32Array;
}

/** The files of one model folder. */
export interface ModelFiles {
  /** The folder path, or a name for messages (`<where>/config.json`). */
  where: string;
  has(name: string): boolean;
  text(name: string): string;
  /** Lazy reads of a large file (a checkpoint). */
  source(name: string): ByteSource;
  /** `pytorch_model.bin` (a zip with a pickle), where it can be read (Node). */
  torchbin?(name: string): TensorFile;
}

/** Files held in memory (a page's fetched or dropped files), by name. */
export function memoryFiles(where: string, files: Record<string, Uint8Array>): ModelFiles {
  const get = (name: string): Uint8Array => {
    const b = files[name];
    if (!b) throw new Error(`${where}/${name} not found (have: ${Object.keys(files).join(', ') || 'nothing'})`);
    return b;
  };
  return {
    where,
    has: (name) => name in files,
    text: (name) => new TextDecoder().decode(get(name)),
    source: (name) => {
      const b = get(name);
      return { size: b.length, read: (s, e) => b.subarray(s, e) };
    },
  };
}

let openFolder: ((dir: string) => ModelFiles) | null = null;

/** Registers how folders are read (the Node layer, `folder.ts`, does this when imported). */
export function setFolderReader(open: (dir: string) => ModelFiles): void {
  openFolder = open;
}

/** The files of a folder path (Node) or the files given. */
export function filesOf(dirOrFiles: string | ModelFiles): ModelFiles {
  if (typeof dirOrFiles !== 'string') return dirOrFiles;
  if (!openFolder) throw new Error(`${dirOrFiles}: reading a folder needs Node (import crab-ser's Node entry); in a browser pass the files (memoryFiles)`);
  return openFolder(dirOrFiles);
}

/** `a/b` joined for messages, without Node's path module. */
export const joinName = (where: string, name: string): string => (where.endsWith('/') ? `${where}${name}` : `${where}/${name}`);
