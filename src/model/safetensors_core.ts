/**
 * safetensors reading (the Hugging Face format), with no file system: an 8-byte little-endian
 * header length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__"}`, then the raw little-endian data. Everything in the header is checked against
 * the file before any byte is used, so a hostile or truncated file gives an error naming the
 * tensor, never a wrong tensor. The bytes come from a {@link ByteSource}: a file read lazily under
 * Node (`safetensors.ts` registers it), or an ArrayBuffer in a browser.
 * @module
 */

/** Opens files by path (set by the Node layer, `safetensors.ts`). */
let fileSource: ((path: string) => ByteSource) | null = null;

/** Registers how files are read (the Node layer does this when it is imported). */
export function setFileSource(open: (path: string) => ByteSource): void {
  fileSource = open;
}

/**
 * The start of every refusal of a tensor too large for one storage binding (the checkpoint
 * readers' and the model loader's): `where: name [shape] is X MiB; …, more than this adapter's
 * largest storage binding (…)`; the caller adds what happens next.
 */
export function overBindingLimit(where: string, big: Array<[string, readonly number[], number]>, limit: number): string {
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return `${where}: ${big.map(([n, shape, bytes]) => `${n} [${shape.join(', ')}] is ${mib(bytes)}`).join('; ')}, more than this adapter's largest storage binding (maxStorageBufferBindingSize ${mib(limit)})`;
}

/** Element types a safetensors file may hold that this reader converts. */
export type STDType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'F64' | 'U8' | 'BOOL';
const BYTES: Record<STDType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, F64: 8, U8: 1, BOOL: 1 };

/** Where a safetensors file's bytes come from: a file under Node, an ArrayBuffer in a browser. */
export interface ByteSource {
  size: number;
  /** Bytes [begin, end). */
  read(begin: number, end: number): Uint8Array;
}

/** Bytes read asynchronously: a Blob or File slice in a page, an HTTP Range request. */
export interface AsyncByteSource {
  size: number;
  read(begin: number, end: number): Promise<Uint8Array>;
}

/** A Blob's (or a picked File's) bytes, read slice by slice. */
export function blobSource(blob: Blob): AsyncByteSource {
  return { size: blob.size, read: async (b, e) => new Uint8Array(await blob.slice(b, e).arrayBuffer()) };
}

/** A URL's bytes through HTTP Range requests (the server must answer 206). */
export async function urlSource(url: string): Promise<AsyncByteSource> {
  const head = await fetch(url, { headers: { range: 'bytes=0-0' } });
  const total = /\/(\d+)$/.exec(head.headers.get('content-range') ?? '')?.[1];
  await head.body?.cancel();
  if (head.status !== 206 || !total) throw new Error(`${url}: the server does not answer byte ranges (status ${head.status})`);
  return {
    size: Number(total),
    read: async (b, e) => {
      if (e <= b) return new Uint8Array(0);
      const r = await fetch(url, { headers: { range: `bytes=${b}-${e - 1}` } });
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (r.status !== 206 || bytes.length !== e - b) throw new Error(`${url}: asked for bytes ${b}–${e - 1}, got status ${r.status} and ${bytes.length} bytes`);
      return bytes;
    },
  };
}

/** One tensor's header entry. */
export interface STEntry {
  dtype: STDType;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** A checked safetensors file, read lazily. */
export class SafetensorsFile {
  readonly path: string;
  readonly entries: Map<string, STEntry>;
  readonly metadata: Record<string, string>;

  private constructor(path: string, entries: Map<string, STEntry>, metadata: Record<string, string>, readonly source: ByteSource) {
    this.path = path;
    this.entries = entries;
    this.metadata = metadata;
  }

  /**
   * Opens and validates a file (header only; no tensor data is read yet). Reading files needs
   * Node: `safetensors.ts` (the Node layer) provides it; in a browser use {@link SafetensorsFile.fromBytes}.
   */
  static open(path: string): SafetensorsFile {
    if (!fileSource) throw new Error(`${path}: reading files needs Node; in a browser load the bytes and use SafetensorsFile.fromBytes`);
    return SafetensorsFile.fromSource(fileSource(path), path);
  }

  /**
   * Opens a file read asynchronously: the header only (two small reads), so its tensors' names,
   * shapes and sizes are known before any data is fetched; {@link SafetensorsFile.fetchTensors}
   * then fetches the tensors, each by its own byte range.
   */
  static async openAsync(src: AsyncByteSource, path: string): Promise<SafetensorsFile> {
    const cache = new Map<string, Uint8Array>();
    const get = async (b: number, e: number): Promise<void> => void cache.set(`${b}:${e}`, await src.read(b, e));
    if (src.size >= 8) {
      await get(0, 8);
      const lb = cache.get('0:8')!;
      const n = Number(new DataView(lb.buffer, lb.byteOffset, 8).getBigUint64(0, true));
      if (n <= src.size - 8 && n <= 100 * 1024 * 1024) await get(8, 8 + n);
    }
    const sync: ByteSource = {
      size: src.size,
      read: (b, e) => {
        const hit = cache.get(`${b}:${e}`);
        if (!hit) throw new Error(`${path}: bytes ${b}–${e} are not fetched yet (call fetchTensors first)`);
        return hit;
      },
    };
    const f = SafetensorsFile.fromSource(sync, path);
    f.fetcher = async (names) => {
      for (const n of names) {
        const e = f.entries.get(n);
        if (!e) throw new Error(`${path}: no tensor named "${n}"`);
        if (!cache.has(`${e.begin}:${e.end}`)) await get(e.begin, e.end);
      }
    };
    return f;
  }

  /** For a file opened with {@link SafetensorsFile.openAsync}: fetches these tensors' bytes (default: all). */
  async fetchTensors(names: string[] = this.names()): Promise<void> {
    await this.fetcher?.(names);
  }

  private fetcher: ((names: string[]) => Promise<void>) | null = null;

  /** Validates the bytes of a whole file (`name` appears in errors). */
  static fromBytes(bytes: Uint8Array, name = 'safetensors'): SafetensorsFile {
    return SafetensorsFile.fromSource({ size: bytes.length, read: (b, e) => bytes.subarray(b, e) }, name);
  }

  /** Validates a file read through `source` (header only). */
  static fromSource(source: ByteSource, path: string): SafetensorsFile {
    const size = source.size;
    const bad = (why: string): never => {
      throw new Error(`${path}: not a valid safetensors file: ${why}`);
    };
    if (size < 8) bad(`the file has ${size} bytes, fewer than the 8-byte header length`);
    const lenBytes = source.read(0, 8);
    const n = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
    if (n > size - 8) bad(`header length ${n} is larger than the rest of the file (${size - 8} bytes); truncated?`);
    if (n > 100 * 1024 * 1024) bad(`header length ${n} is absurdly large`);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(new TextDecoder().decode(source.read(8, 8 + n)));
    } catch (e) {
      return bad(`the header is not JSON (${(e as Error).message})`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) bad('the header is not a JSON object');
    const dataStart = 8 + n;
    const dataLen = size - dataStart;
    const entries = new Map<string, STEntry>();
    const metadata = (json.__metadata__ ?? {}) as Record<string, string>;
    const ranges: Array<[number, number, string]> = [];
    for (const [name, raw] of Object.entries(json)) {
      if (name === '__metadata__') continue;
      const e = raw as { dtype?: string; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object') bad(`tensor "${name}": entry is not an object`);
      if (!(e.dtype! in BYTES)) bad(`tensor "${name}": unsupported dtype ${JSON.stringify(e.dtype)}`);
      const dtype = e.dtype as STDType;
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`tensor "${name}": shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
      const off = e.data_offsets as number[];
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0]! > off[1]!) {
        bad(`tensor "${name}": data_offsets ${JSON.stringify(e.data_offsets)} are not [begin, end]`);
      }
      const shape = e.shape as number[];
      const count = shape.reduce((a, b) => a * b, 1);
      if (off[1]! - off[0]! !== count * BYTES[dtype]) {
        bad(`tensor "${name}": ${dtype} ${JSON.stringify(shape)} needs ${count * BYTES[dtype]} bytes but data_offsets span ${off[1]! - off[0]!}`);
      }
      if (off[1]! > dataLen) bad(`tensor "${name}": data_offsets end ${off[1]} is past the end of the data (${dataLen} bytes); truncated file?`);
      ranges.push([off[0]!, off[1]!, name]);
      entries.set(name, { dtype, shape, begin: dataStart + off[0]!, end: dataStart + off[1]! });
    }
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) {
      if (ranges[i]![0] < ranges[i - 1]![1]) bad(`tensors "${ranges[i - 1]![2]}" and "${ranges[i]![2]}" overlap`);
    }
    return new SafetensorsFile(path, entries, metadata, source);
  }

  /** Tensor names in the file. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Raw bytes of one tensor (8-byte aligned, so typed arrays can view them). */
  bytes(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor named "${name}" (the file has ${this.entries.size}: ${this.names().slice(0, 8).join(', ')}${this.entries.size > 8 ? ', …' : ''})`);
    const b = this.source.read(e.begin, e.end);
    return b.byteOffset % 8 === 0 ? b : Uint8Array.prototype.slice.call(b);
  }

  /** One tensor as f32 (F16, BF16, F64 and integer types converted). */
  float32(name: string): Float32Array {
    const e = this.entries.get(name);
    const b = this.bytes(name);
    return toFloat32(e!.dtype, b);
  }

  /** One integer tensor as i32 (I64 values must fit). */
  int32(name: string): Int32Array {
    const e = this.entries.get(name)!;
    const b = this.bytes(name);
    if (e.dtype === 'I64') {
      const v = new BigInt64Array(b.buffer, b.byteOffset, b.length / 8);
      const out = new Int32Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (x > 2147483647n || x < -2147483648n) throw new Error(`${this.path}: tensor "${name}" value ${x} does not fit in i32`);
        out[i] = Number(x);
      }
      return out;
    }
    if (e.dtype === 'I32') return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    return Int32Array.from(toFloat32(e.dtype, b));
  }

  /** Shape of one tensor. */
  shape(name: string): number[] {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.path}: no tensor named "${name}"`);
    return e.shape;
  }
}

function toFloat32(dtype: STDType, b: Uint8Array): Float32Array {
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
  switch (dtype) {
    case 'F32':
      return new Float32Array(ab);
    case 'F64':
      return Float32Array.from(new Float64Array(ab));
    case 'F16': {
      const h = new Uint16Array(ab);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = halfToFloat(h[i]!);
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(ab);
      const u = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) u[i] = h[i]! << 16;
      return new Float32Array(u.buffer);
    }
    case 'I64':
      return Float32Array.from(new BigInt64Array(ab), (x) => Number(x));
    case 'I32':
      return Float32Array.from(new Int32Array(ab));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(ab));
  }
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

