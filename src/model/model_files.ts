/**
 * A model folder's files wherever they are: a folder on disk under Node, or files a page fetched
 * or a user dropped. Readers of `config.json`, tokenizer files and checkpoints take a
 * {@link ModelFiles} (or a folder path, under Node), so parsing never depends on the file system.
 * @module
 */
import { SafetensorsFile, overBindingLimit, type ByteSource, type AsyncByteSource } from './safetensors_core.js';
import { TorchBinFile } from './torchbin.js';

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
  /** `pytorch_model.bin` (a zip with a pickle, read by the restricted unpickler). */
  torchbin?(name: string): TensorFile;
}

/** The files of a Hugging Face model folder that loading reads (others, like `tf_model.h5`, are never fetched). */
export const MODEL_FILE = /^(config\.json|model(-\d+-of-\d+)?\.safetensors|model\.safetensors\.index\.json|pytorch_model\.bin|vocab\.json|merges\.txt|tokenizer\.json)$/;

/** Of a folder's file names, those loading reads: {@link MODEL_FILE}, and `pytorch_model.bin` only without safetensors. */
export function modelFileNames(names: readonly string[]): string[] {
  const keep = names.filter((n) => MODEL_FILE.test(n));
  return keep.some((n) => n.endsWith('.safetensors')) ? keep.filter((n) => n !== 'pytorch_model.bin') : keep;
}

/**
 * Checkpoint names of embedding tables (`embeddings.word_embeddings.weight`, …): the embedding
 * kernel gathers them in chunks, so they may exceed the adapter's binding limit.
 */
export const GATHERED_IN_CHUNKS = /_embeddings\.weight$/;

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
    torchbin: (name) => tensorFile(TorchBinFile.fromSource({ size: get(name).length, read: (s, e) => get(name).subarray(s, e) }, joinName(where, name))),
  };
}

/** A {@link TorchBinFile} seen as a {@link TensorFile}. */
export const tensorFile = (f: TorchBinFile): TensorFile => ({ names: () => f.names(), shape: (n) => f.shape(n), float32: (n) => f.get(n) });

/**
 * A model folder read asynchronously, file by file (files picked in a page, or a served folder
 * through HTTP Range requests). Checkpoints (`*.safetensors`, `pytorch_model.bin`) are opened
 * header first — for a `.bin`, its zip directory and pickle: a tensor larger than `maxBinding`
 * (the adapter's largest storage binding; embedding tables excepted, see
 * {@link GATHERED_IN_CHUNKS}) is refused by name before any tensor data is fetched;
 * then their tensors are fetched range by range. Other files are read whole.
 */
export async function fetchedFiles(where: string, names: string[], open: (name: string) => AsyncByteSource | Promise<AsyncByteSource>, o: { maxBinding?: number } = {}): Promise<ModelFiles> {
  const whole: Record<string, Uint8Array> = {};
  const checkpoints = new Map<string, SafetensorsFile>();
  const torchbins = new Map<string, TorchBinFile>();
  for (const name of names) {
    const src = await open(name);
    if (name.endsWith('.bin')) {
      torchbins.set(name, await TorchBinFile.openAsync(src, joinName(where, name), { ...o, chunked: GATHERED_IN_CHUNKS }));
      continue;
    }
    if (!name.endsWith('.safetensors')) {
      whole[name] = await src.read(0, src.size);
      continue;
    }
    const f = await SafetensorsFile.openAsync(src, joinName(where, name));
    if (o.maxBinding !== undefined) {
      const big = [...f.entries].filter(([n, e]) => e.end - e.begin > o.maxBinding! && !GATHERED_IN_CHUNKS.test(n));
      if (big.length) {
        throw new Error(`${overBindingLimit(joinName(where, name), big.map(([n, e]) => [n, e.shape, e.end - e.begin]), o.maxBinding)}; nothing of it was downloaded. Use a smaller model, or an adapter with a larger limit.`);
      }
    }
    await f.fetchTensors();
    checkpoints.set(name, f);
  }
  const mem = memoryFiles(where, whole);
  return {
    where,
    has: (name) => checkpoints.has(name) || torchbins.has(name) || mem.has(name),
    text: (name) => mem.text(name),
    torchbin: (name) => {
      const f = torchbins.get(name);
      if (!f) throw new Error(`${joinName(where, name)} not found`);
      return tensorFile(f);
    },
    source: (name) => {
      const f = checkpoints.get(name);
      if (!f) return mem.source(name);
      // Header and tensors were fetched into f's cache: read through it.
      return f.source;
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
