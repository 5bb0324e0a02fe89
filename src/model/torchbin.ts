/**
 * `pytorch_model.bin` reading without executing anything from the file.
 *
 * The file is a zip archive (`<name>/data.pkl`, `<name>/data/<key>`, …). `data.pkl` is a
 * pickle; a real unpickler would import and call whatever it names, so this one is restricted:
 * it interprets only the opcodes a tensor checkpoint uses and resolves only the globals such a
 * checkpoint needs (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter`, storage types). Anything else — `os.system`, `eval`,
 * `builtins.getattr` — is refused with an error naming it, before anything runs.
 * @module
 */
import { halfToFloat, overBindingLimit, type ByteSource, type AsyncByteSource } from './safetensors_core.js';

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** Little-endian reads over bytes. */
const le = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Inflates a raw deflate stream (zip method 8). */
export type InflateRaw = (raw: Uint8Array) => Uint8Array;

/** How far from the end the end-of-central-directory record may sit (22 bytes + a 64 KiB comment). */
const TAIL = 65557;

/**
 * Reads a zip archive's central directory through `read` (stored or deflated entries; ZIP64
 * sizes). `read(begin, end)` returns bytes of the file; the directory takes two to four reads.
 */
function zipDirectory(size: number, read: (b: number, e: number) => Uint8Array, where: string): Map<string, ZipEntry> {
  const bad = (why: string): never => {
    throw new Error(`${where}: not a readable PyTorch checkpoint: ${why}`);
  };
  // The record is the last 22 bytes unless the archive has a comment (torch.save writes none):
  // try 42 bytes (record and ZIP64 locator), then the longest possible tail.
  let tailStart = 0;
  let tail: Uint8Array = new Uint8Array();
  let eocd = -1;
  for (const n of [42, TAIL]) {
    tailStart = Math.max(0, size - n);
    tail = read(tailStart, size);
    const v = le(tail);
    for (let i = tail.length - 22; i >= 0; i--) if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
    if (eocd >= 0 || tailStart === 0) break;
  }
  const t = le(tail);
  if (eocd < 0) bad('no zip end-of-central-directory record (a legacy, pre-1.6 torch.save file, or truncated)');
  let count = t.getUint16(eocd + 10, true);
  let cdSize = t.getUint32(eocd + 12, true);
  let cdOff = t.getUint32(eocd + 16, true);
  if (cdOff === 0xffffffff || count === 0xffff) {
    // ZIP64: the locator sits 20 bytes before the EOCD.
    const loc = eocd - 20;
    if (loc < 0 || t.getUint32(loc, true) !== 0x07064b50) bad('ZIP64 locator missing');
    const recOff = Number(t.getBigUint64(loc + 8, true));
    if (recOff + 56 > size) bad('ZIP64 end record past the end of the file');
    const rec = le(read(recOff, recOff + 56));
    if (rec.getUint32(0, true) !== 0x06064b50) bad('ZIP64 end record missing');
    count = Number(rec.getBigUint64(32, true));
    cdSize = Number(rec.getBigUint64(40, true));
    cdOff = Number(rec.getBigUint64(48, true));
  }
  if (cdOff + cdSize > size) bad('central directory past the end of the file (truncated?)');
  const cdBytes = cdOff >= tailStart ? tail.subarray(cdOff - tailStart, cdOff - tailStart + cdSize) : read(cdOff, cdOff + cdSize);
  const cd = le(cdBytes);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdBytes.length || cd.getUint32(p, true) !== 0x02014b50) bad(`central directory entry ${i} is damaged`);
    const method = cd.getUint16(p + 10, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let usize = cd.getUint32(p + 24, true);
    const nameLen = cd.getUint16(p + 28, true);
    const extraLen = cd.getUint16(p + 30, true);
    const commentLen = cd.getUint16(p + 32, true);
    let localOffset = cd.getUint32(p + 42, true);
    const name = new TextDecoder().decode(cdBytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: replaces the 0xffffffff values in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.getUint16(x, true);
      const len = cd.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (usize === 0xffffffff) { usize = Number(cd.getBigUint64(q, true)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(cd.getBigUint64(q, true)); q += 8; }
        if (localOffset === 0xffffffff) localOffset = Number(cd.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size: usize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Where an entry's data starts, from its local header (whose extra field may differ from the directory's). */
function dataStart(e: ZipEntry, header: Uint8Array, size: number, where: string): number {
  const h = le(header);
  if (header.length < 30 || h.getUint32(0, true) !== 0x04034b50) throw new Error(`${where}: entry ${e.name} has no local header`);
  const start = e.localOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
  if (start + e.compressedSize > size) throw new Error(`${where}: entry ${e.name} runs past the end of the file (truncated?)`);
  return start;
}

function checkMethod(e: ZipEntry, where: string): void {
  if (e.method !== 0 && e.method !== 8) throw new Error(`${where}: entry ${e.name} uses zip compression method ${e.method}`);
}

/** Inflates with the platform's `DecompressionStream` (browsers, Node ≥ 18). */
async function inflateStream(raw: Uint8Array): Promise<Uint8Array> {
  const out = new Blob([raw as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(out).arrayBuffer());
}

const STORAGE_DTYPES: Record<string, { bytes: number; dtype: string }> = {
  FloatStorage: { bytes: 4, dtype: 'F32' }, HalfStorage: { bytes: 2, dtype: 'F16' }, BFloat16Storage: { bytes: 2, dtype: 'BF16' },
  DoubleStorage: { bytes: 8, dtype: 'F64' }, LongStorage: { bytes: 8, dtype: 'I64' }, IntStorage: { bytes: 4, dtype: 'I32' },
  ByteStorage: { bytes: 1, dtype: 'U8' }, BoolStorage: { bytes: 1, dtype: 'BOOL' },
};

interface StorageRef { kind: 'storage'; type: string; key: string; numel: number }
interface TensorRef { kind: 'tensor'; storage: StorageRef; offset: number; shape: number[]; stride: number[] }
type Global = { kind: 'global'; name: string };
type Value = unknown;

const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)]);

/** Interprets a pickle from a tensor checkpoint, refusing anything else. */
function unpickle(buf: Uint8Array, where: string): Value {
  const dv = le(buf);
  const latin1 = (b: number, e: number): string => {
    let out = '';
    for (let i = b; i < e; i += 8192) out += String.fromCharCode(...buf.subarray(i, Math.min(e, i + 8192)));
    return out;
  };
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const refuse = (what: string): never => {
    throw new Error(`${where}: refusing to load: the pickle ${what}. A tensor checkpoint does not need this, and loading never executes code from a file.`);
  };
  const popMark = (): Value[] => {
    const m = marks.pop();
    if (m === undefined) refuse('is malformed (no MARK)');
    return stack.splice(m!);
  };
  const u8 = (): number => buf[p++]!;
  const u32 = (): number => { const v = dv.getUint32(p, true); p += 4; return v; };
  const str = (n: number): string => { const s = new TextDecoder().decode(buf.subarray(p, p + n)); p += n; return s; };
  const line = (): string => { const e = buf.indexOf(0x0a, p); if (e < 0) refuse('is malformed (unterminated line)'); const s = latin1(p, e); p = e + 1; return s; };
  while (p < buf.length) {
    const op = u8();
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x71: memo.set(u8(), stack.at(-1)); break; // BINPUT
      case 0x72: memo.set(u32(), stack.at(-1)); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack.at(-1)); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8())); break; // BINGET
      case 0x6a: stack.push(memo.get(u32())); break; // LONG_BINGET
      case 0x58: { const n = u32(); stack.push(str(n)); break; } // BINUNICODE
      case 0x8c: { const n = u8(); stack.push(str(n)); break; } // SHORT_BINUNICODE
      case 0x55: { const n = u8(); stack.push(latin1(p, p + n)); p += n; break; } // SHORT_BINSTRING
      case 0x54: { const n = u32(); stack.push(latin1(p, p + n)); p += n; break; } // BINSTRING
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: { stack.push(dv.getUint16(p, true)); p += 2; break; } // BININT2
      case 0x4a: { stack.push(dv.getInt32(p, true)); p += 4; break; } // BININT
      case 0x8a: { // LONG1
        const n = u8();
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[p + i]!);
        if (n > 0 && buf[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: { stack.push(dv.getFloat64(p, false)); p += 8; break; } // BINFLOAT
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const v = stack.pop(); (stack.at(-1) as Value[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack.at(-1) as Value[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); (stack.at(-1) as Map<Value, Value>).set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = stack.at(-1) as Map<Value, Value>;
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x63: { // GLOBAL
        const name = `${line()}.${line()}`;
        if (!ALLOWED.has(name)) refuse(`references ${name}`);
        stack.push({ kind: 'global', name } satisfies Global);
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const n = stack.pop() as string;
        const m = stack.pop() as string;
        const name = `${m}.${n}`;
        if (!ALLOWED.has(name)) refuse(`references ${name}`);
        stack.push({ kind: 'global', name } satisfies Global);
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = stack.pop() as Value[];
        if (!Array.isArray(pid) || pid[0] !== 'storage') refuse('has a persistent id that is not a tensor storage');
        const type = (pid[1] as Global).name?.replace('torch.', '') ?? '';
        if (!(type in STORAGE_DTYPES)) refuse(`has a storage of unknown type ${type}`);
        stack.push({ kind: 'storage', type, key: String(pid[2]), numel: Number(pid[4]) } satisfies StorageRef);
        break;
      }
      case 0x52: { // REDUCE
        const args = stack.pop() as Value[];
        const fn = stack.pop() as Global;
        if (fn?.kind !== 'global') refuse('calls something that is not an allowed global');
        if (fn.name === 'collections.OrderedDict') stack.push(new Map());
        else if (fn.name === 'torch._utils._rebuild_tensor_v2') {
          const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
          stack.push({ kind: 'tensor', storage, offset, shape: [...shape], stride: [...stride] } satisfies TensorRef);
        } else if (fn.name === 'torch._utils._rebuild_parameter') stack.push(args[0]);
        else refuse(`calls ${fn.name}`);
        break;
      }
      case 0x62: stack.pop(); break; // BUILD: state of an OrderedDict (its _metadata); ignored
      case 0x2e: return stack.pop(); // STOP
      default: refuse(`uses opcode 0x${op.toString(16)}, which tensor checkpoints do not`);
    }
  }
  return refuse('ends without STOP (truncated?)');
}

/** The state dict's tensors from `data.pkl`, and the archive prefix of their storages. */
function stateDict(entries: Map<string, ZipEntry>, readPkl: (e: ZipEntry) => Uint8Array, where: string): { tensors: Map<string, TensorRef>; prefix: string } {
  const pkl = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pkl) throw new Error(`${where}: no data.pkl inside the archive`);
  const root = unpickle(readPkl(entries.get(pkl)!), where);
  if (!(root instanceof Map)) throw new Error(`${where}: the checkpoint is not a state dict (name → tensor)`);
  const tensors = new Map<string, TensorRef>();
  for (const [k, v] of root) if ((v as TensorRef)?.kind === 'tensor') tensors.set(String(k), v as TensorRef);
  return { tensors, prefix: pkl.slice(0, -'data.pkl'.length) };
}

/**
 * A `pytorch_model.bin` read as named tensors; same interface as a safetensors source. Open it
 * with {@link TorchBinFile.fromSource} (synchronous reads, as from a file under Node) or
 * {@link TorchBinFile.openAsync} (a Blob or HTTP Range requests in a page; deflated entries go
 * through `DecompressionStream`). `torch.save` stores entries uncompressed; deflated ones come
 * from archives re-zipped by other tools.
 */
export class TorchBinFile {
  private constructor(
    readonly path: string,
    private readonly tensors: Map<string, TensorRef>,
    private readonly storage: (key: string, tensor: string) => Uint8Array,
  ) {}

  /** Reads through `src`; `inflateRaw` is needed only for deflated entries (Node: `zlib.inflateRawSync`). */
  static fromSource(src: ByteSource, path: string, inflateRaw?: InflateRaw): TorchBinFile {
    const entries = zipDirectory(src.size, (b, e) => src.read(b, e), path);
    const read = (e: ZipEntry): Uint8Array => {
      checkMethod(e, path);
      const start = dataStart(e, src.read(e.localOffset, Math.min(src.size, e.localOffset + 30)), src.size, path);
      const raw = src.read(start, start + e.compressedSize);
      if (e.method === 0) return raw;
      if (!inflateRaw) throw new Error(`${path}: entry ${e.name} is deflated; open the file with TorchBinFile.openAsync (DecompressionStream) or pass an inflater`);
      return inflateRaw(raw);
    };
    const { tensors, prefix } = stateDict(entries, read, path);
    return new TorchBinFile(path, tensors, (key, n) => {
      const entry = entries.get(`${prefix}data/${key}`);
      if (!entry) throw new Error(`${path}: storage ${key} of "${n}" is missing from the archive`);
      return read(entry);
    });
  }

  /**
   * Reads the archive's directory and `data.pkl`, then every storage the state dict uses, range by
   * range. With `maxBinding` (the adapter's largest storage binding), a tensor whose f32 size
   * exceeds it is refused by name before any storage is fetched, unless its name matches
   * `chunked` (tables the embedding kernel gathers in chunks).
   */
  static async openAsync(src: AsyncByteSource, path: string, o: { maxBinding?: number; chunked?: RegExp } = {}): Promise<TorchBinFile> {
    // The directory parser reads synchronously: serve it from fetched ranges, fetching what it
    // asks for and starting over (it makes at most three reads).
    const fetched = new Map<string, Uint8Array>();
    class Missing { constructor(readonly b: number, readonly e: number) {} }
    let entries: Map<string, ZipEntry> | null = null;
    for (let tries = 0; !entries; tries++) {
      try {
        entries = zipDirectory(src.size, (b, e) => {
          const hit = fetched.get(`${b}:${e}`);
          if (!hit) throw new Missing(b, e);
          return hit;
        }, path);
      } catch (err) {
        if (!(err instanceof Missing) || tries > 4) throw err;
        fetched.set(`${err.b}:${err.e}`, await src.read(err.b, err.e));
      }
    }
    const readEntry = async (e: ZipEntry): Promise<Uint8Array> => {
      checkMethod(e, path);
      const start = dataStart(e, await src.read(e.localOffset, Math.min(src.size, e.localOffset + 30)), src.size, path);
      const raw = await src.read(start, start + e.compressedSize);
      return e.method === 0 ? raw : inflateStream(raw);
    };
    const pklName = [...entries.keys()].find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
    const pklBytes = pklName ? await readEntry(entries.get(pklName)!) : new Uint8Array();
    const { tensors, prefix } = stateDict(entries, () => pklBytes, path);
    if (o.maxBinding !== undefined) {
      const big = [...tensors].filter(([n, t]) => 4 * t.shape.reduce((a, b) => a * b, 1) > o.maxBinding! && !o.chunked?.test(n));
      if (big.length) {
        throw new Error(`${overBindingLimit(path, big.map(([n, t]) => [n, t.shape, 4 * t.shape.reduce((a, b) => a * b, 1)]), o.maxBinding)}; no tensor data was downloaded. Use a smaller model, or an adapter with a larger limit.`);
      }
    }
    const storages = new Map<string, Uint8Array>();
    for (const [n, t] of tensors) {
      if (storages.has(t.storage.key)) continue;
      const entry = entries.get(`${prefix}data/${t.storage.key}`);
      if (!entry) throw new Error(`${path}: storage ${t.storage.key} of "${n}" is missing from the archive`);
      storages.set(t.storage.key, await readEntry(entry));
    }
    return new TorchBinFile(path, tensors, (key) => storages.get(key)!);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }
  has(n: string): boolean {
    return this.tensors.has(n);
  }
  shape(n: string): number[] {
    const t = this.tensors.get(n);
    if (!t) throw new Error(`${this.path}: no tensor named "${n}"`);
    return t.shape;
  }

  /** One tensor as f32 (F16, BF16, F64 and integers converted; any strides). */
  get(n: string): Float32Array {
    const t = this.tensors.get(n);
    if (!t) throw new Error(`${this.path}: no tensor named "${n}"`);
    const { bytes, dtype } = STORAGE_DTYPES[t.storage.type]!;
    const raw = this.storage(t.storage.key, n);
    if (raw.length < t.storage.numel * bytes) throw new Error(`${this.path}: storage of "${n}" holds ${raw.length} bytes, fewer than ${t.storage.numel}×${bytes}`);
    const dv = le(raw);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(numel);
    // The common case, a contiguous f32 tensor: one copy (the bytes may be unaligned).
    const contiguous = t.stride.every((st, d) => t.shape[d] === 1 || st === t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    if (dtype === 'F32' && contiguous && t.offset + numel <= t.storage.numel) {
      new Uint8Array(out.buffer).set(raw.subarray(4 * t.offset, 4 * (t.offset + numel)));
      return out;
    }
    const bf = new DataView(new ArrayBuffer(4));
    const at = (i: number): number => {
      const o = (t.offset + i) * bytes;
      switch (dtype) {
        case 'F32': return dv.getFloat32(o, true);
        case 'F64': return dv.getFloat64(o, true);
        case 'F16': return halfToFloat(dv.getUint16(o, true));
        case 'BF16': bf.setUint32(0, dv.getUint16(o, true) << 16, true); return bf.getFloat32(0, true);
        case 'I64': return Number(dv.getBigInt64(o, true));
        case 'I32': return dv.getInt32(o, true);
        default: return raw[o]!;
      }
    };
    // Walk the logical index through the strides (checkpoints may hold views).
    const nd = t.shape.length;
    const idx = new Array<number>(nd).fill(0);
    for (let i = 0; i < numel; i++) {
      let off = 0;
      for (let d = 0; d < nd; d++) off += idx[d]! * t.stride[d]!;
      if (t.offset + off >= t.storage.numel) throw new Error(`${this.path}: "${n}" reaches past its storage`);
      out[i] = at(off);
      for (let d = nd - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
    return out;
  }
}
